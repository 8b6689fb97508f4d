"""The run lock over a real sshd on 127.0.0.1, the lock file in a temporary directory.

Fast (no lab): taking and giving back, refusal, expiry and --break-lock, a lock lost to another
run while held, and Ctrl-C (cancellation) giving it back.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from sealer.connect import Connections, HostAccess, PoolOptions
from sealer.errors import LockHeld, LockLost
from sealer.lock import Holder, RunLock, probe, seen_locks
from sealer.lock.record import parse_holder

pytestmark = [pytest.mark.lab, pytest.mark.slow]  # a root sshd on this machine


def _other(command: str = "apply") -> Holder:
    return Holder("f" * 16, "bob", "ci-runner", 99, command, "prod", "2024-05-01T10:00:00Z")


def _write(path: Path, holder: Holder, age: float = 0.0) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(holder.to_bytes())
    when = time.time() - age
    os.utime(path, (when, when))


class Locks:
    def __init__(self, conns: Connections, host: HostAccess, path: Path) -> None:
        self.conns, self.host, self.path = conns, host, path
        self.warnings: list[str] = []

    def lock(self, command: str = "apply", **options: object) -> RunLock:
        return RunLock(
            self.conns,
            [self.host],
            Holder.new(command, "prod"),
            warn=self.warnings.append,
            path=str(self.path),
            **options,  # type: ignore[arg-type]
        )

    def leftovers(self) -> list[str]:
        directory = self.path.parent
        return sorted(p.name for p in directory.iterdir()) if directory.exists() else []


@pytest.fixture
async def locks(options: PoolOptions, root: HostAccess, tmp_path: Path) -> AsyncIterator[Locks]:
    async with Connections(options) as conns:
        yield Locks(conns, root, tmp_path / "state" / "run.lock")


async def test_taken_held_and_given_back(locks: Locks) -> None:
    lock = locks.lock()
    async with lock:
        record = parse_holder(locks.path.read_bytes())
        assert record == lock.holder
        assert locks.leftovers() == ["run.lock"]  # the upload's name is gone
        state = await probe(locks.conns, locks.host, str(locks.path))
        assert state is not None and state.holder == lock.holder and state.age < 30
    assert not locks.path.exists()
    assert not locks.path.parent.exists()  # the empty state directory goes too
    assert locks.warnings == []


async def test_a_second_run_is_refused_and_the_first_keeps_its_lock(locks: Locks) -> None:
    first = locks.lock()
    async with first:
        with pytest.raises(LockHeld) as refused:
            async with locks.lock("clean"):
                pytest.fail("two runs held the lock")
        assert f"run {first.holder.run_id}" in str(refused.value)
        assert "--break-lock" in str(refused.value)
        assert parse_holder(locks.path.read_bytes()) == first.holder
        assert locks.leftovers() == ["run.lock"]
    assert not locks.path.exists()


async def test_an_expired_lock_is_taken_over_with_a_warning(locks: Locks) -> None:
    _write(locks.path, _other(), age=300)
    lock = locks.lock(expiry=90)
    async with lock:
        assert parse_holder(locks.path.read_bytes()) == lock.holder
    assert len(locks.warnings) == 1
    assert "bob@ci-runner" in locks.warnings[0] and "expired" in locks.warnings[0]
    assert not locks.path.exists()


async def test_a_live_lock_needs_break_lock(locks: Locks) -> None:
    _write(locks.path, _other(), age=5)
    with pytest.raises(LockHeld, match="bob@ci-runner"):
        async with locks.lock():
            pass
    assert parse_holder(locks.path.read_bytes()) == _other()  # untouched
    assert locks.leftovers() == ["run.lock"]
    async with locks.lock(break_lock=True):
        pass
    assert "--break-lock was given" in locks.warnings[0]
    assert not locks.path.exists()


async def test_an_unreadable_lock_is_held_too(locks: Locks) -> None:
    locks.path.parent.mkdir(parents=True)
    locks.path.write_text("not a record")
    with pytest.raises(LockHeld, match="unreadable lock record"):
        async with locks.lock():
            pass
    assert locks.path.read_text() == "not a record"


async def test_the_heartbeat_renews_the_lock(locks: Locks) -> None:
    async with locks.lock(heartbeat=0.1):
        old = time.time() - 50
        os.utime(locks.path, (old, old))

        async def renewed() -> bool:
            state = await probe(locks.conns, locks.host, str(locks.path))
            return state is not None and state.age < 10

        deadline = time.monotonic() + 20
        while not await renewed():
            assert time.monotonic() < deadline, "the heartbeat did not touch the lock"
            await asyncio.sleep(0.1)


async def test_a_run_whose_lock_was_taken_over_stops(locks: Locks) -> None:
    lock = locks.lock(heartbeat=0.1)
    with pytest.raises(LockLost, match="bob@ci-runner"):
        async with lock:
            _write(locks.path, _other("certs renew"))  # as a --break-lock elsewhere would
            await asyncio.sleep(60)  # cancelled by the heartbeat
    # the other run's lock is left alone
    assert parse_holder(locks.path.read_bytes()) == _other("certs renew")
    assert locks.leftovers() == ["run.lock"]


async def test_check_after_a_prompt_raises_when_the_lock_is_gone(locks: Locks) -> None:
    lock = locks.lock()
    with pytest.raises(LockLost, match="was removed"):
        async with lock:
            locks.path.unlink()
            await lock.check()


async def test_cancellation_gives_the_lock_back(locks: Locks) -> None:
    entered = asyncio.Event()

    async def run() -> None:
        async with locks.lock():
            entered.set()
            await asyncio.sleep(60)

    task = asyncio.create_task(run())
    await asyncio.wait_for(entered.wait(), 30)
    assert locks.path.exists()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not locks.path.exists()


async def test_diff_sees_a_held_lock_without_taking_it(locks: Locks) -> None:
    assert await seen_locks(locks.conns, [locks.host], path=str(locks.path)) == []
    _write(locks.path, _other(), age=3)
    seen = await seen_locks(locks.conns, [locks.host], path=str(locks.path))
    assert len(seen) == 1 and "bob@ci-runner" in seen[0] and "`apply`" in seen[0]
    assert json.loads(locks.path.read_text())["run_id"] == "f" * 16
