"""Running the real `sealer` command line from tests (a subprocess, as a user would)."""

from __future__ import annotations

import subprocess
import sys


def run_sealer(*args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    """``python -m sealer ARGS`` with no stdin (so it never waits for an answer)."""
    return subprocess.run(
        [sys.executable, "-m", "sealer", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        check=False,
    )
