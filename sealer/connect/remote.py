"""What steps and facts need from the connection layer: the :class:`Remote` protocol.

:class:`~sealer.connect.Connections` is the one production implementation (structurally: it
does not inherit from this class). Steps (``Target.conns``) and the facts' ``collect`` /
``collect_many`` are typed against this protocol, so the tests can run every step against an
in-memory fake (``tests/steps/fake_remote.py``) that records argv and uploads and refuses
commands it has no answer for. Only the members steps and facts use are here: connecting,
closing and counting connections stay on ``Connections``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Protocol

from sealer.connect.pool import Result
from sealer.connect.record import Redactor
from sealer.connect.settings import HostAccess

__all__ = ["Remote"]


class Remote(Protocol):
    """Commands and files on hosts, as :class:`~sealer.connect.Connections` provides them.

    The semantics are those of ``Connections``: ``run`` raises
    :class:`~sealer.errors.CommandFailed` on a non-zero exit when ``check``; ``put`` writes
    atomically and returns the sha256 of what was sent; ``read_file`` returns None for a
    missing file, ``get`` raises :class:`~sealer.connect.errors.TransferFailed` for one.
    """

    @property
    def redactor(self) -> Redactor:
        """Secrets replaced by ``***`` in records and in errors (facts redact with it)."""
        ...

    def add_secret(self, secret: str) -> None: ...

    async def run(
        self,
        host: HostAccess,
        argv: Sequence[str],
        *,
        check: bool = True,
        input: str | bytes | None = None,
        timeout: float | None = None,
        cwd: str | None = None,
        env: Mapping[str, str] | None = None,
        sudo: bool | None = None,
    ) -> Result: ...

    async def put(
        self,
        host: HostAccess,
        source: Path | bytes,
        remote_path: str,
        *,
        mode: int = 0o644,
        parents: bool = False,
        sudo: bool | None = None,
    ) -> str: ...

    async def read_file(
        self, host: HostAccess, path: str, *, sudo: bool | None = None
    ) -> bytes | None: ...

    async def get(
        self,
        host: HostAccess,
        remote_path: str,
        local_path: Path | None = None,
        *,
        sudo: bool | None = None,
        mode: int = 0o600,
    ) -> bytes: ...
