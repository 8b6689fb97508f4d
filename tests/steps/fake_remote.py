"""An in-memory :class:`sealer.connect.Remote` for step tests: scripted answers, refusals.

Like pyinfra's FakeHost, which refuses facts that were not supplied, :class:`FakeRemote`
answers ``run`` only from what the test scripted and raises an AssertionError naming the host
and argv for anything else, so a step cannot run a command the test did not think about.
It records every call in order (across hosts), and keeps a small file system per host, so
``put`` then ``read_file``/``get`` sees what was written.

Answers (first match wins, in this order):

* exact argv (``fake.on(argv, ...)``),
* a prefix of the argv (``fake.on_prefix(prefix, ...)``; the longest prefix wins),
* a predicate (``fake.on_match(predicate, ...)``; the latest one added wins).

Each can be limited to one host. An answer is a :class:`Reply` (or several: used in turn, the
last one repeated) or a callable ``(FakeRemote, Call) -> Reply`` for answers that depend on
the argv or change the in-memory files. ``read=True`` marks commands that only read, so that
:meth:`FakeRemote.changes` lists what a step changed.
"""

from __future__ import annotations

import hashlib
import shlex
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from sealer.connect import HostAccess, Redactor, Remote, Result, TransferFailed
from sealer.errors import CommandFailed

__all__ = ["Call", "FakeFile", "FakeRemote", "Reply", "Upload", "changed_argv"]


@dataclass(frozen=True)
class Reply:
    exit_status: int = 0
    stdout: str = ""
    stderr: str = ""


@dataclass(frozen=True)
class Call:
    """One ``run`` as the step made it."""

    host: str
    argv: tuple[str, ...]
    check: bool
    timeout: float | None = None
    cwd: str | None = None
    env: Mapping[str, str] | None = None
    sudo: bool | None = None
    input: str | bytes | None = None
    read: bool = False  # answered by a read-only answer
    exit_status: int | None = None  # what the scripted answer said

    def __str__(self) -> str:
        return f"{self.host}: {shlex.join(self.argv)}"


@dataclass(frozen=True)
class Upload:
    """One ``put``: the bytes that reached the host, and their mode."""

    host: str
    path: str
    content: bytes
    mode: int


@dataclass
class FakeFile:
    content: bytes
    mode: int = 0o644


Answer = Reply | Sequence[Reply] | Callable[["FakeRemote", Call], Reply]


@dataclass
class _Rule:
    answer: Answer
    host: str | None
    read: bool
    used: int = 0

    def reply(self, fake: FakeRemote, call: Call) -> Reply:
        answer = self.answer
        self.used += 1
        if isinstance(answer, Reply):
            return answer
        if callable(answer):
            return answer(fake, call)
        replies = list(answer)
        return replies[min(self.used, len(replies)) - 1]


@dataclass
class FakeRemote:
    """Records every call; answers only scripted commands; a file system per host."""

    redactor: Redactor = field(default_factory=Redactor)
    #: Every call in order: ``Call`` for run, ``Upload`` for put, ``("read", host, path)``.
    log: list[Call | Upload | tuple[str, str, str]] = field(default_factory=list)
    files: dict[str, dict[str, FakeFile]] = field(default_factory=dict)
    secrets: list[str] = field(default_factory=list)
    #: ``put`` of these (host, path) raises the given exception instead of writing.
    put_failures: dict[tuple[str, str], Exception] = field(default_factory=dict)
    _exact: dict[tuple[str, ...], list[_Rule]] = field(default_factory=dict)
    _prefix: list[tuple[tuple[str, ...], _Rule]] = field(default_factory=list)
    _match: list[tuple[Callable[[Call], bool], _Rule]] = field(default_factory=list)

    # -- scripting ---------------------------------------------------------------------------

    def on(
        self,
        argv: Sequence[str],
        answer: Answer | None = None,
        *,
        host: str | None = None,
        read: bool = False,
        **reply: str | int,
    ) -> None:
        """Answer exactly ``argv`` (``stdout=``, ``stderr=``, ``exit_status=`` or ``answer``)."""
        rule = _Rule(_answer(answer, reply), host, read)
        self._exact.setdefault(tuple(argv), []).insert(0, rule)

    def on_prefix(
        self,
        prefix: Sequence[str],
        answer: Answer | None = None,
        *,
        host: str | None = None,
        read: bool = False,
        **reply: str | int,
    ) -> None:
        """Answer every argv starting with ``prefix`` (the longest matching prefix wins)."""
        self._prefix.insert(0, (tuple(prefix), _Rule(_answer(answer, reply), host, read)))

    def on_match(
        self,
        predicate: Callable[[Call], bool],
        answer: Answer | None = None,
        *,
        host: str | None = None,
        read: bool = False,
        **reply: str | int,
    ) -> None:
        """Answer every call ``predicate`` accepts (the latest predicate added wins)."""
        self._match.insert(0, (predicate, _Rule(_answer(answer, reply), host, read)))

    def write(self, host: str, path: str, content: bytes | str, mode: int = 0o644) -> None:
        """A file the host already has."""
        data = content.encode() if isinstance(content, str) else content
        self.files.setdefault(host, {})[path] = FakeFile(data, mode)

    def remove(self, host: str, path: str) -> None:
        self.files.get(host, {}).pop(path, None)

    def listdir(self, host: str, directory: str) -> list[str]:
        """Names of the files directly in ``directory``, sorted."""
        prefix = directory.rstrip("/") + "/"
        return sorted(
            p[len(prefix) :]
            for p in self.files.get(host, {})
            if p.startswith(prefix) and "/" not in p[len(prefix) :]
        )

    def file(self, host: str, path: str) -> bytes | None:
        found = self.files.get(host, {}).get(path)
        return None if found is None else found.content

    # -- what happened -----------------------------------------------------------------------

    @property
    def calls(self) -> list[Call]:
        return [c for c in self.log if isinstance(c, Call)]

    @property
    def uploads(self) -> list[Upload]:
        return [u for u in self.log if isinstance(u, Upload)]

    def commands(self, host: str | None = None) -> list[tuple[str, ...]]:
        """The argv of every ``run`` (on ``host``), in order."""
        return [c.argv for c in self.calls if host is None or c.host == host]

    def changes(self, host: str | None = None) -> list[Call | Upload]:
        """Every command not answered as a read, and every upload (on ``host``), in order."""
        return [
            c
            for c in self.log
            if isinstance(c, Call | Upload)
            and not (isinstance(c, Call) and c.read)
            and (host is None or c.host == host)
        ]

    def index(self, argv: Sequence[str], host: str | None = None) -> int:
        """Position in :attr:`log` of the first ``run`` of ``argv`` (ValueError when none)."""
        for position, item in enumerate(self.log):
            if not isinstance(item, Call) or item.argv != tuple(argv):
                continue
            if host is None or item.host == host:
                return position
        raise ValueError(f"never ran: {shlex.join(argv)}")

    # -- the Remote protocol -----------------------------------------------------------------

    def add_secret(self, secret: str) -> None:
        self.secrets.append(secret)
        self.redactor.add(secret)

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
    ) -> Result:
        call = Call(host.label, tuple(argv), check, timeout, cwd, env, sudo, input)
        rule = self._rule(call)
        if rule is None:
            raise AssertionError(f"unscripted command on {call}")
        reply = rule.reply(self, call)
        self.log.append(replace(call, read=rule.read, exit_status=reply.exit_status))
        if check and reply.exit_status != 0:
            r = self.redactor
            raise CommandFailed(
                host.label,
                r.redact_argv(argv),
                reply.exit_status,
                r.redact(reply.stdout),
                r.redact(reply.stderr),
            )
        return Result(reply.exit_status, reply.stdout, reply.stderr)

    async def put(
        self,
        host: HostAccess,
        source: Path | bytes,
        remote_path: str,
        *,
        mode: int = 0o644,
        parents: bool = False,
        sudo: bool | None = None,
    ) -> str:
        del parents, sudo  # the fake has no directories and no users
        if not remote_path.startswith("/"):
            raise ValueError(f"remote path must be absolute: {remote_path}")
        failure = self.put_failures.get((host.label, remote_path))
        if failure is not None:
            raise failure
        data = source if isinstance(source, bytes) else source.read_bytes()
        self.log.append(Upload(host.label, remote_path, data, mode))
        self.write(host.label, remote_path, data, mode)
        return hashlib.sha256(data).hexdigest()

    async def read_file(
        self, host: HostAccess, path: str, *, sudo: bool | None = None
    ) -> bytes | None:
        del sudo
        self.log.append(("read", host.label, path))
        return self.file(host.label, path)

    async def get(
        self,
        host: HostAccess,
        remote_path: str,
        local_path: Path | None = None,
        *,
        sudo: bool | None = None,
        mode: int = 0o600,
    ) -> bytes:
        data = await self.read_file(host, remote_path, sudo=sudo)
        if data is None:
            raise TransferFailed(host.label, remote_path, "no such file")
        if local_path is not None:
            local_path.write_bytes(data)
            local_path.chmod(mode)
        return data

    # -- matching ----------------------------------------------------------------------------

    def _rule(self, call: Call) -> _Rule | None:
        def fits(rule: _Rule) -> bool:
            return rule.host is None or rule.host == call.host

        for rule in self._exact.get(call.argv, []):
            if fits(rule):
                return rule
        prefixes = [(len(p), r) for p, r in self._prefix if call.argv[: len(p)] == p and fits(r)]
        if prefixes:
            return max(prefixes, key=lambda item: item[0])[1]
        for predicate, rule in self._match:
            if fits(rule) and predicate(call):
                return rule
        return None


def _answer(answer: Answer | None, reply: Mapping[str, str | int]) -> Answer:
    if answer is not None:
        if reply:
            raise TypeError("give an answer or reply fields, not both")
        return answer
    return Reply(
        exit_status=int(reply.get("exit_status", 0)),
        stdout=str(reply.get("stdout", "")),
        stderr=str(reply.get("stderr", "")),
    )


def _satisfies_remote(fake: FakeRemote) -> Remote:
    return fake  # mypy checks that FakeRemote is a Remote


def changed_argv(fake: FakeRemote, host: str | None = None) -> list[tuple[str, ...]]:
    """The argv of every command a step ran that is not a read (on ``host``, or anywhere)."""
    return [c.argv for c in fake.changes(host) if isinstance(c, Call)]
