"""Running programs on this machine: argv lists only, quoted in exactly one place (for messages)."""

from __future__ import annotations

import shlex
import subprocess
from collections.abc import Mapping, Sequence

from sealer.errors import CommandFailed

__all__ = ["describe", "run"]


def describe(argv: Sequence[str]) -> str:
    """The one place an argv list is quoted (for messages and logs)."""
    return shlex.join(argv)


def run(
    argv: Sequence[str],
    *,
    check: bool = True,
    input: str | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float | None = 60.0,
    where: str = "localhost",
) -> subprocess.CompletedProcess[str]:
    """Run ``argv`` and capture its output; raise CommandFailed on a non-zero exit if ``check``."""
    try:
        result = subprocess.run(
            list(argv),
            input=input,
            capture_output=True,
            text=True,
            env=None if env is None else dict(env),
            timeout=timeout,
            check=False,
            stdin=None if input is not None else subprocess.DEVNULL,
        )
    except FileNotFoundError as exc:
        raise CommandFailed(where, argv, None, "", f"program not found: {exc.filename}") from None
    except subprocess.TimeoutExpired as exc:
        raise CommandFailed(where, argv, None, "", f"timed out after {exc.timeout} s") from None
    if check and result.returncode != 0:
        raise CommandFailed(where, argv, result.returncode, result.stdout, result.stderr)
    return result
