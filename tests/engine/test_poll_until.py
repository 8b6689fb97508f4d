"""poll_until: returns at the first accepted answer, and never waits past its deadline."""

from __future__ import annotations

import asyncio
import time

import pytest

from sealer.aio import poll_until


class Answers:
    """A probe answering ``values`` in turn (the last one repeated), counting its calls."""

    def __init__(self, *values: int) -> None:
        self.values = values
        self.calls = 0

    async def __call__(self) -> int:
        self.calls += 1
        return self.values[min(self.calls, len(self.values)) - 1]


async def test_an_accepted_first_answer_returns_at_once() -> None:
    probe = Answers(1)
    started = time.monotonic()
    assert await poll_until(probe, timeout=10, interval=5) == 1
    assert probe.calls == 1
    assert time.monotonic() - started < 0.5


async def test_it_returns_early_at_the_first_accepted_answer() -> None:
    probe = Answers(0, 0, 7, 0)
    started = time.monotonic()
    assert await poll_until(probe, timeout=10, interval=0.01) == 7
    assert probe.calls == 3
    assert time.monotonic() - started < 1.0


async def test_done_decides_what_is_accepted() -> None:
    probe = Answers(3, 2, 1)
    assert await poll_until(probe, timeout=10, interval=0.01, done=lambda v: v < 2) == 1
    assert probe.calls == 3


async def test_at_the_deadline_it_returns_the_last_answer() -> None:
    probe = Answers(0)
    started = time.monotonic()
    assert await poll_until(probe, timeout=0.3, interval=0.05) == 0
    took = time.monotonic() - started
    assert 0.3 <= took < 1.0
    assert 4 <= probe.calls <= 8  # every 0.05 s, the last one at the deadline


async def test_a_long_interval_does_not_sleep_past_the_deadline() -> None:
    probe = Answers(0)
    started = time.monotonic()
    await poll_until(probe, timeout=0.2, interval=30)
    assert time.monotonic() - started < 1.0
    assert probe.calls == 2  # at once, and once more at the deadline


async def test_a_failing_probe_raises_and_cancelling_stops_the_wait() -> None:
    async def broken() -> bool:
        raise ValueError("no answer")

    with pytest.raises(ValueError, match="no answer"):
        await poll_until(broken, timeout=10, interval=0.01)
    waiting = asyncio.create_task(poll_until(Answers(0), timeout=30, interval=0.01))
    await asyncio.sleep(0.05)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
