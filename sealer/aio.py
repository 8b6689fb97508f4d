"""asyncio helpers that leave no task behind."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

__all__ = ["gather_all", "poll_until"]

T = TypeVar("T")


async def gather_all(*awaitables: Awaitable[Any]) -> list[Any]:
    """Run ``awaitables`` concurrently and return their results in order; when some fail,
    raise the first failure (in argument order) only after every one has finished.

    ``asyncio.gather`` raises at the first failure and leaves the others running: a command
    still in flight then outlives the run, and its own failure surfaces as "Task exception was
    never retrieved" or as a traceback while ``asyncio.run`` shuts down.
    """
    results = await asyncio.gather(*awaitables, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return results


def _truthy(value: object) -> bool:
    return bool(value)


async def poll_until(
    probe: Callable[[], Awaitable[T]],
    *,
    timeout: float,
    interval: float,
    done: Callable[[T], bool] = _truthy,
) -> T:
    """Await ``probe()`` until ``done`` accepts what it returned (by default: until it is
    truthy), at most ``timeout`` seconds; return the last value, so that the caller sees
    whether it succeeded and can say what the last answer was.

    The first probe runs at once; a value ``done`` accepts is returned without waiting. Between
    probes it sleeps ``interval`` seconds, never past the deadline: the last probe runs at the
    deadline (the whole wait takes ``timeout`` plus the time of that one probe). Exceptions of
    ``probe`` propagate.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = await probe()
        left = deadline - loop.time()
        if done(value) or left <= 0:
            return value
        await asyncio.sleep(min(interval, left))
