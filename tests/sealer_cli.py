"""Running the real `sealer` command line from tests (a subprocess, as a user would)."""

from __future__ import annotations

import os
import signal
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


def _interruptible() -> None:
    """In the child before exec: Ctrl-C (SIGINT) back to its default. A shell without job
    control starts background commands with SIGINT ignored, and that is inherited: Python
    then keeps ignoring it, and a test that sends SIGINT would wait for nothing."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start_sealer(*args: str) -> subprocess.Popen[str]:
    """``python -m sealer ARGS`` started in the background (no stdin, output captured) that a
    test can interrupt with SIGINT as a user's Ctrl-C, however the test run was started."""
    return subprocess.Popen(
        [sys.executable, "-m", "sealer", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        preexec_fn=_interruptible,
    )
