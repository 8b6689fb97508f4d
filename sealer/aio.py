"""asyncio helpers that leave no task behind."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

__all__ = ["gather_all"]


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
