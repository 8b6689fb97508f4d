"""gather_all: the first failure is raised only after every awaitable has finished."""

from __future__ import annotations

import asyncio

import pytest

from sealer.aio import gather_all


async def test_results_in_order() -> None:
    async def value(x: int, delay: float) -> int:
        await asyncio.sleep(delay)
        return x

    assert await gather_all(value(1, 0.02), value(2, 0.0)) == [1, 2]


async def test_a_failure_waits_for_the_others_and_the_first_in_order_wins() -> None:
    finished: list[str] = []

    async def fail_fast() -> None:
        raise ValueError("fast")

    async def slow_then_fail() -> None:
        await asyncio.sleep(0.05)
        finished.append("slow")
        raise KeyError("slow")

    with pytest.raises(ValueError, match="fast"):
        await gather_all(fail_fast(), slow_then_fail())
    # the slow one ran to its end: nothing is left running (or failing unobserved)
    assert finished == ["slow"]
    assert [t for t in asyncio.all_tasks() if t is not asyncio.current_task()] == []
