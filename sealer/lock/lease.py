"""The run lock over SSH: take it on every master, keep it alive, give it back.

On each host the lock is the file ``RUN_LOCK`` holding the :class:`~sealer.lock.record.Holder`
record. Taking it is atomic on the host: the record is uploaded over SFTP to a name of this run
and then hard-linked to ``RUN_LOCK`` with ``ln`` (no ``-f``), which fails when the lock exists.
Hosts are taken in a fixed order (sorted addresses), so two runs cannot deadlock; when one is
held by a live run, what this run took is given back and :class:`~sealer.errors.LockHeld` is
raised. Removing a lock that is not ours (expired, or ``--break-lock``) and giving ours back
both go through ``mv`` to a name of this run and a check of what was moved: a lock that turns
out to be someone else's is put back.
"""

from __future__ import annotations

import asyncio
import contextlib
import posixpath
import secrets
from collections.abc import Callable, Sequence
from types import TracebackType

from sealer.connect import Connections, HostAccess, Result
from sealer.connect.command import batch_argv, split_batch
from sealer.errors import CommandFailed, ConnectError, LockHeld, LockLost, SealerError
from sealer.layout import RUN_LOCK
from sealer.lock.record import (
    EXPIRY_SECONDS,
    HEARTBEAT_SECONDS,
    Holder,
    LockState,
    Verdict,
    held_error,
    parse_age,
    parse_holder,
    seen_warning,
    takeover_warning,
    verdict,
)
from sealer.plan.access import host_access
from sealer.spec.model import Cluster

__all__ = ["RunLock", "lock_masters", "probe", "seen_locks"]

#: No lock command may hang a run (or its Ctrl-C) for longer than this.
_COMMAND_TIMEOUT = 60.0
_RELEASE_TIMEOUT = 30.0
_ATTEMPTS = 3

Warn = Callable[[str], None]


def lock_masters(cluster: Cluster, *, connect_timeout: float) -> list[HostAccess]:
    """The hosts holding the lock of ``cluster``: its masters, in the fixed order of taking."""
    return [
        host_access(cluster, address, connect_timeout=connect_timeout)
        for address in sorted(cluster.spec.master_addresses)
    ]


async def _batch(
    conns: Connections, host: HostAccess, argvs: Sequence[Sequence[str]]
) -> list[Result]:
    """Several commands in one SSH command, each with its own exit status and output."""
    marker = secrets.token_hex(12)
    argv = batch_argv(argvs, marker)
    raw = await conns.run(host, argv, check=False, timeout=_COMMAND_TIMEOUT)
    frames = split_batch(raw.stdout, raw.stderr, marker, len(argvs))
    if frames is None:
        raise CommandFailed(host.label, argv, raw.exit_status, raw.stdout, raw.stderr)
    return [Result(status, out, err) for status, out, err in frames]


async def probe(conns: Connections, host: HostAccess, path: str = RUN_LOCK) -> LockState | None:
    """The lock file of ``host`` (its record and the seconds since its last heartbeat, by the
    host's clock), or None when there is none."""
    now, mtime, text = await _batch(
        conns,
        host,
        [["date", "+%s"], ["stat", "-c", "%Y", "--", path], ["cat", "--", path]],
    )
    if not mtime.ok or not text.ok:
        return None
    return LockState(host.label, text.stdout, parse_age(now.stdout, mtime.stdout))


async def seen_locks(
    conns: Connections,
    hosts: Sequence[HostAccess],
    *,
    expiry: float = EXPIRY_SECONDS,
    path: str = RUN_LOCK,
) -> list[str]:
    """Warnings about locks held on ``hosts`` (for diff and apply --dry-run, which do not take
    the lock). A host that cannot be read is left to the caller's own reading to report."""

    async def one(host: HostAccess) -> LockState | None:
        try:
            return await probe(conns, host, path)
        except SealerError:
            return None

    states = await asyncio.gather(*(one(host) for host in hosts))
    return seen_warning([s for s in states if s is not None], expiry=expiry)


class RunLock:
    """``async with RunLock(conns, hosts, holder):`` holds the lock on ``hosts`` for the body.

    ``skip_unreachable`` (clean) leaves out hosts that cannot be reached, with a warning,
    instead of failing. A heartbeat task touches every lock file every ``heartbeat`` seconds;
    if it finds one taken over by another run, the body is cancelled and :class:`LockLost`
    raised. Leaving (normally, on an error or on Ctrl-C) removes the lock files still ours.
    """

    def __init__(
        self,
        conns: Connections,
        hosts: Sequence[HostAccess],
        holder: Holder,
        *,
        warn: Warn,
        break_lock: bool = False,
        skip_unreachable: bool = False,
        expiry: float = EXPIRY_SECONDS,
        heartbeat: float = HEARTBEAT_SECONDS,
        path: str = RUN_LOCK,
    ) -> None:
        self.conns = conns
        self.path = path
        self.directory = posixpath.dirname(path)
        self.hosts = sorted(hosts, key=lambda h: (h.address, h.port))
        self.holder = holder
        self.record = holder.to_bytes()
        self.warn = warn
        self.break_lock = break_lock
        self.skip_unreachable = skip_unreachable
        self.expiry = expiry
        self.heartbeat = heartbeat
        #: Hosts whose lock this run may hold (release checks each before removing it).
        self.taken: list[HostAccess] = []
        self._beat: asyncio.Task[None] | None = None
        self._body: asyncio.Task[object] | None = None
        self._lost: str | None = None
        self._unrenewed: set[HostAccess] = set()

    # -- taking ---------------------------------------------------------------------------

    async def __aenter__(self) -> RunLock:
        try:
            for host in self.hosts:
                try:
                    await self._take(host)
                except ConnectError as exc:
                    if not self.skip_unreachable:
                        raise
                    self.warn(f"{exc.message}: the run lock is not taken there")
        except BaseException:
            await self._release_all()
            raise
        self._body = asyncio.current_task()
        self._beat = asyncio.create_task(self._heartbeat(), name="sealer-run-lock-heartbeat")
        return self

    async def _take(self, host: HostAccess) -> None:
        tmp = self._name(self.holder.run_id)
        await self.conns.put(host, self.record, tmp, mode=0o644, parents=True)
        self.taken.append(host)  # before `ln`: an interrupted run still checks and releases
        try:
            for _attempt in range(_ATTEMPTS):
                argv = ["ln", "--", tmp, self.path]
                linked = await self.conns.run(host, argv, check=False, timeout=_COMMAND_TIMEOUT)
                if linked.ok:
                    return
                if "exists" not in linked.stderr:
                    raise CommandFailed(
                        host.label, argv, linked.exit_status, linked.stdout, linked.stderr
                    )
                state = await probe(self.conns, host, self.path)
                if state is None:
                    continue  # given back meanwhile: try again
                found = verdict(
                    state, self.holder.run_id, expiry=self.expiry, break_lock=self.break_lock
                )
                if found is Verdict.OURS:
                    return
                if found is Verdict.HELD:
                    self.taken.remove(host)
                    raise held_error(state, self.holder.cluster, expiry=self.expiry)
                self.warn(takeover_warning(state, found, expiry=self.expiry))
                await self._remove_if(host, state.text, "stale")
            state = await probe(self.conns, host, self.path)
            self.taken.remove(host)
            if state is not None:
                raise held_error(state, self.holder.cluster, expiry=self.expiry)
            raise LockHeld(
                host.label,
                f"{host.label}: could not take the run lock in {_ATTEMPTS} attempts: other "
                "runs are taking it at the same time",
            )
        finally:
            with contextlib.suppress(SealerError):  # never hide why taking the lock failed
                await self.conns.run(host, ["rm", "-f", "--", tmp], check=False)

    def _name(self, suffix: str) -> str:
        """A file of this run next to the lock (hidden, named after the lock)."""
        return posixpath.join(self.directory, f".{posixpath.basename(self.path)}.{suffix}")

    async def _remove_if(self, host: HostAccess, text: str, why: str) -> bool:
        """Remove the lock of ``host`` if it still says ``text``; put it back otherwise.
        True when removed."""
        grave = self._name(f"{why}-{self.holder.run_id}")
        moved, content = await _batch(
            self.conns, host, [["mv", "-T", "--", self.path, grave], ["cat", "--", grave]]
        )
        if not moved.ok:
            return False  # no lock any more
        if content.ok and content.stdout == text:
            await self.conns.run(host, ["rm", "-f", "--", grave], timeout=_COMMAND_TIMEOUT)
            return True
        # Another run's lock, taken after we looked: put it back (ln keeps its heartbeat).
        await _batch(self.conns, host, [["ln", "--", grave, self.path], ["rm", "-f", "--", grave]])
        return False

    # -- keeping --------------------------------------------------------------------------

    async def _heartbeat(self) -> None:
        while True:
            await asyncio.sleep(self.heartbeat)
            await self.check()

    async def check(self) -> None:
        """Renew every lock file and make sure each is still ours; raise LockLost (and cancel
        the body when called from the heartbeat) if one was taken over."""
        ours = self.record.decode()

        async def beat(host: HostAccess) -> None:
            try:
                touched, text = await _batch(
                    self.conns,
                    host,
                    [["touch", "-c", "--", self.path], ["cat", "--", self.path]],
                )
            except SealerError as exc:
                if host not in self._unrenewed:  # once, not every heartbeat
                    self._unrenewed.add(host)
                    self.warn(f"could not renew the run lock on {host.label}: {exc.message}")
                return
            if not touched.ok or not text.ok:
                self._lost = f"the run lock on {host.label} was removed"
            elif text.stdout != ours:
                holder = parse_holder(text.stdout)
                who = holder.describe() if holder else "a run with an unreadable record"
                self._lost = f"{who} took over the run lock on {host.label}"

        await asyncio.gather(*(beat(host) for host in list(self.taken)))
        if self._lost is not None:
            if asyncio.current_task() is self._beat and self._body is not None:
                self._body.cancel()
                return
            raise self._lost_error()

    def _lost_error(self) -> LockLost:
        return LockLost(
            f"{self._lost} while this run ({self.holder.command}) held it: stopped so that two "
            "runs do not change the cluster at once. Run again when the other run has finished.",
            hint="a run whose heartbeat stops (a suspended laptop, a prompt left unanswered) "
            f"loses its lock after {self.expiry:.0f}s",
        )

    # -- giving back ----------------------------------------------------------------------

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._beat is not None:
            self._beat.cancel()
            with contextlib.suppress(asyncio.CancelledError, SealerError):
                await self._beat
        await self._release_all()
        if self._lost is not None:
            body = asyncio.current_task()
            if body is not None and body.cancelling():
                body.uncancel()  # the heartbeat's cancellation, not the user's
            raise self._lost_error() from None

    async def _release_all(self) -> None:
        hosts, self.taken = list(self.taken), []
        if not hosts:
            return
        ours = self.record.decode()

        async def release(host: HostAccess) -> None:
            try:
                if await self._remove_if(host, ours, "done"):
                    # leave no empty state directory behind (after clean, say)
                    await self.conns.run(
                        host,
                        ["rmdir", "--ignore-fail-on-non-empty", "--", self.directory],
                        check=False,
                        timeout=_COMMAND_TIMEOUT,
                    )
            except SealerError as exc:
                self.warn(
                    f"could not give back the run lock on {host.label}: {exc.message}; it "
                    f"expires {self.expiry:.0f}s after this run's last heartbeat"
                )

        # Runs on Ctrl-C too: bounded, so that a hung host cannot hold the exit.
        try:
            await asyncio.wait_for(
                asyncio.gather(*(release(h) for h in hosts)), timeout=_RELEASE_TIMEOUT
            )
        except TimeoutError:
            self.warn(
                f"giving back the run lock took more than {_RELEASE_TIMEOUT:.0f}s; what is "
                f"left expires {self.expiry:.0f}s after this run's last heartbeat"
            )
