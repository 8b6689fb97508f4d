"""The two errors the connection layer adds to :mod:`sealer.errors` (both are SealerErrors)."""

from __future__ import annotations

from collections.abc import Sequence

from sealer.errors import CommandFailed, SealerError

__all__ = ["CommandTimedOut", "TransferFailed"]


class CommandTimedOut(CommandFailed):
    """A remote command did not finish within its timeout; its channel was closed.

    A :class:`~sealer.errors.CommandFailed` with ``exit_status=None``, so code handling command
    failures handles this one too.
    """

    def __init__(
        self, host: str, argv: Sequence[str], timeout: float, stdout: str, stderr: str
    ) -> None:
        super().__init__(host, argv, None, stdout, stderr)
        self.timeout = timeout
        import shlex

        self.message = (
            f"{host}: `{shlex.join(self.argv)}` did not finish within {timeout:g} s and was stopped"
        )


class TransferFailed(SealerError):
    """An SFTP upload or download failed (no such file, permission denied, disk full...)."""

    def __init__(self, host: str, path: str, message: str) -> None:
        super().__init__(f"{host}: {path}: {message}")
        self.host = host
        self.path = path
