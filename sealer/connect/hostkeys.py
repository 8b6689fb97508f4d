"""Host-key policy: verify against known_hosts, optionally pin new keys, refuse changed ones.

asyncssh is given the keys known for the host (so it negotiates an algorithm we have a key for)
and a client object whose ``validate_host_public_key`` is asked about any other key. That hook is
where the policy lives:

* the host has known keys, the presented one is not among them -> refused, "changed";
* the host has no known key: with ``accept_new`` the key is appended to the pinned file
  (``[addr]:port keytype base64``, mode 0600) and accepted, otherwise refused, "unknown".

The verdict is kept on the :class:`HostKeyCheck` so the pool can turn asyncssh's generic
``HostKeyNotVerifiable`` into a :class:`~sealer.errors.ConnectError` naming both fingerprints.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import asyncssh

__all__ = ["HostKeyCheck", "HostKeyVerdict", "KnownHosts", "known_hosts_pattern"]


def known_hosts_pattern(address: str, port: int) -> str:
    """``addr`` for port 22, ``[addr]:port`` otherwise (OpenSSH's spelling)."""
    return address if port == 22 else f"[{address}]:{port}"


@dataclass(frozen=True)
class HostKeyVerdict:
    """Why a host key was refused: ``kind`` is ``"unknown"`` or ``"changed"``."""

    kind: str
    presented: str
    known: tuple[str, ...] = ()


_Stamp = tuple[tuple[int, int] | None, ...]


class KnownHosts:
    """The known_hosts files of one run, checked at each connect (so pinned keys are seen) and
    parsed again only when one of them changed: parsing every file at every connect cost
    O(hosts^2) key imports (200 hosts: 40,000) for a run."""

    def __init__(self, files: tuple[Path, ...], pinned: Path, accept_new: bool) -> None:
        self.files = tuple(p.expanduser() for p in files)
        self.pinned = pinned.expanduser()
        self.accept_new = accept_new
        self._parsed: tuple[_Stamp, asyncssh.SSHKnownHosts] | None = None

    def _stamp(self) -> _Stamp:
        """Each file's (modification time, size), None when missing."""
        stamps: list[tuple[int, int] | None] = []
        for path in (*self.files, self.pinned):
            try:
                st = path.stat()
            except FileNotFoundError:
                stamps.append(None)
                continue
            stamps.append((st.st_mtime_ns, st.st_size))
        return tuple(stamps)

    def load(self) -> asyncssh.SSHKnownHosts:
        stamp = self._stamp()
        if self._parsed is not None and self._parsed[0] == stamp:
            return self._parsed[1]
        chunks: list[str] = []
        for path in (*self.files, self.pinned):
            try:
                chunks.append(path.read_text(encoding="utf-8"))
            except FileNotFoundError:
                continue
        db = asyncssh.import_known_hosts("\n".join(chunks))
        self._parsed = (stamp, db)
        return db

    def pin(self, address: str, port: int, key: asyncssh.SSHKey) -> None:
        self.pinned.parent.mkdir(parents=True, exist_ok=True)
        public = key.export_public_key("openssh").decode("ascii").split()
        line = f"{known_hosts_pattern(address, port)} {public[0]} {public[1]}\n"
        fd = os.open(self.pinned, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        with os.fdopen(fd, "a", encoding="ascii") as handle:
            handle.write(line)


class HostKeyCheck(asyncssh.SSHClient):
    """The asyncssh client object of one connection attempt: applies the policy."""

    def __init__(self, known: KnownHosts, db: asyncssh.SSHKnownHosts, address: str) -> None:
        self._known = known
        self.db = db
        self._address = address
        self.verdict: HostKeyVerdict | None = None
        self.pinned: str | None = None

    def validate_host_public_key(  # asyncssh's callback signature
        self,
        host: str,  # noqa: ARG002 (the name as given; addr is what was connected to)
        addr: str,
        port: int,
        key: asyncssh.SSHKey,
    ) -> bool:
        match = self.db.match(self._address, addr, port if port != 22 else None)
        known = [k for k in match[0]]
        presented = key.get_fingerprint("sha256")
        if known:
            if key in known:  # pragma: no cover - asyncssh accepts these itself
                return True
            self.verdict = HostKeyVerdict(
                "changed", presented, tuple(k.get_fingerprint("sha256") for k in known)
            )
            return False
        if self._known.accept_new:
            self._known.pin(self._address, port, key)
            self.pinned = presented
            return True
        self.verdict = HostKeyVerdict("unknown", presented)
        return False
