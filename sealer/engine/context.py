"""The frozen context every step receives, and the progress events the engine emits."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sealer.connect import Connections

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
    """Everything a run shares, passed explicitly (no module-level state).

    ``deadline`` is a :func:`time.monotonic` value: when it passes, running steps are cancelled
    and nothing new starts. ``connections`` is the pool steps run their commands through (None
    for runs that need none, e.g. tests of the engine). Subclass it to carry more.
    """

    dry_run: bool = False
    concurrency: int = DEFAULT_STEP_CONCURRENCY
    deadline: float | None = None
    events: EventSink = _ignore
    connections: Connections | None = None

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
