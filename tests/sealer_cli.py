"""Running the real `sealer` command line from tests (a subprocess, as a user would)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping


def run_sealer(
    *args: str, timeout: float = 900, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``python -m sealer ARGS`` with no stdin (so it never waits for an answer); ``env`` is
    added to this process's environment."""
    return subprocess.run(
        [sys.executable, "-m", "sealer", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        check=False,
        env={**os.environ, **env} if env else None,
    )
