"""Waiting in tests for something that happens on its own time (a daemon's log line, a process,
a rule, a Node object...): a deadline is a bound on a condition, never a sleep before an assert.

The one polling loop of the suite: tests/lb/netlab.py re-exports it; tests/lb_lab/labcluster.py,
tests/lab/emulate_kube/conftest.py and tests/lab/emulate_api/test_controllers.py keep their own
signatures (the bench scripts use some of them) on top of it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_for(
    what: str | Callable[[], str],
    check: Callable[[], T | None],
    timeout: float = 60.0,
    interval: float = 0.1,
) -> T:
    """Poll ``check`` until it returns something other than None or False and return that.

    After ``timeout`` seconds (``check`` having been tried once more after the deadline) fail
    with an AssertionError naming ``what``; a callable ``what`` is called then, so the message
    can show the state at the time of the failure. Exceptions of ``check`` are not caught.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value is not None and value is not False:
            return value
        if time.monotonic() > deadline:
            described = what() if callable(what) else what
            raise AssertionError(f"gave up after {timeout:g} s waiting for: {described}")
        time.sleep(interval)
