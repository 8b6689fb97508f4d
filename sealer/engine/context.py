"""The frozen context every step receives, and the progress events the engine emits."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

__all__ = ["DEFAULT_STEP_CONCURRENCY", "Event", "EventKind", "EventSink", "RunContext", "Status"]

#: Steps running at once. Each step usually runs commands on one host; the number of commands
#: in flight is bounded separately by the connection pool.
DEFAULT_STEP_CONCURRENCY = 64


class Status(StrEnum):
    OK = "ok"  # ran, nothing needed changing
    CHANGED = "changed"  # ran and changed something
    FAILED = "failed"  # raised an error
    SKIPPED = "skipped"  # not started: a dependency failed, or the run was interrupted
    CANCELLED = "cancelled"  # was running when the run was interrupted


class EventKind(StrEnum):
    STARTED = "started"
    FINISHED = "finished"  # status ok, changed or failed
    SKIPPED = "skipped"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class Event:
    """One progress event; the CLI renders them (the engine never imports rich)."""

    kind: EventKind
    step: str
    name: str
    host: str | None
    status: Status | None = None
    elapsed: float = 0.0
    message: str = ""


EventSink = Callable[[Event], None]


def _ignore(event: Event) -> None:
    del event


@dataclass(frozen=True)
class RunContext:
    """How one run of a graph goes, passed explicitly (no module-level state): what the
    executor and the steps read, nothing else.

    ``concurrency`` bounds the steps running at once; ``deadline`` is a :func:`time.monotonic`
    value: when it passes, running steps are cancelled and nothing new starts; ``events``
    receives the progress events. What a step acts on is not here: the run's cluster, hosts
    and connections are its ``Target``, what the planner decided its payload.
    """

    concurrency: int = DEFAULT_STEP_CONCURRENCY
    deadline: float | None = None
    events: EventSink = _ignore

    def __post_init__(self) -> None:
        if self.concurrency < 1:
            raise ValueError("concurrency must be at least 1")

    @staticmethod
    def deadline_in(seconds: float) -> float:
        """A deadline ``seconds`` from now."""
        return time.monotonic() + seconds

    def remaining(self) -> float | None:
        """Seconds left before the deadline (None without one; may be negative)."""
        return None if self.deadline is None else self.deadline - time.monotonic()
