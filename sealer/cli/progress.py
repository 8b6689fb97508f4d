"""The live view of a run: engine events in, a table on a terminal or one line per step.

At 200 hosts a run has a thousand steps, so the terminal view is grouped: one row per step
kind with its counts (running, ok, changed, failed, skipped), the slowest hosts of that kind,
then every failure with its message. ``--verbose`` shows one row per step instead. Either way
an event only updates a dictionary (no rendering per event); rich redraws the view from it four
times a second. The run log always gets every step's result (:func:`log_steps`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from rich.console import Group, RenderableType
from rich.live import Live
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from sealer.cli.render import Ui
from sealer.connect import CommandRecord, JsonlRunLog, Redactor
from sealer.engine import Event, EventKind, RunSummary, Status

__all__ = ["KindRow", "Progress", "StepRow", "group", "log_steps"]

_STYLE = {
    Status.OK: "green",
    Status.CHANGED: "yellow",
    Status.FAILED: "red",
    Status.SKIPPED: "dim",
    Status.CANCELLED: "magenta",
}
RUNNING = "running"
#: Slowest hosts shown per kind, failures shown under the grouped table.
SLOWEST = 3
FAILURES = 10


@dataclass
class StepRow:
    name: str
    host: str | None
    status: str
    started: float
    elapsed: float = 0.0
    detail: str = ""

    def seconds(self, now: float) -> float:
        return now - self.started if self.status == RUNNING else self.elapsed


@dataclass
class KindRow:
    """One step kind in the grouped view."""

    name: str
    counts: dict[str, int] = field(default_factory=dict)
    slowest: list[tuple[str, float]] = field(default_factory=list)


def group(rows: dict[str, StepRow], now: float) -> list[KindRow]:
    """The grouped view's rows, in the order each kind first started."""
    kinds: dict[str, KindRow] = {}
    times: dict[str, list[tuple[float, str]]] = {}
    for row in rows.values():
        kind = kinds.setdefault(row.name, KindRow(row.name))
        kind.counts[row.status] = kind.counts.get(row.status, 0) + 1
        times.setdefault(row.name, []).append((row.seconds(now), row.host or "-"))
    for name, kind in kinds.items():
        worst = sorted(times[name], reverse=True)[:SLOWEST]
        kind.slowest = [(host, seconds) for seconds, host in worst]
    return list(kinds.values())


class Progress:
    """Renders engine events: a live view on a terminal, one line per step otherwise."""

    def __init__(self, ui: Ui, *, quiet: bool, verbose: bool = False) -> None:
        self.ui = ui
        self.quiet = quiet
        self.verbose = verbose
        self.rows: dict[str, StepRow] = {}
        self.live: Live | None = None

    def __enter__(self) -> Progress:
        if not self.quiet and self.ui.err.is_terminal:
            self.live = Live(
                console=self.ui.err, refresh_per_second=4, get_renderable=self.renderable
            )
            self.live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.live is not None:
            self.live.refresh()
            self.live.__exit__(None, None, None)

    def renderable(self) -> RenderableType:
        now = time.monotonic()
        return self.per_step(now) if self.verbose else self.grouped(now)

    def per_step(self, now: float) -> Table:
        table = Table(show_header=True, header_style="bold")
        for column in ("step", "host", "status", "time", "detail"):
            table.add_column(column)
        for row in self.rows.values():
            style = _style(row.status)
            table.add_row(
                row.name,
                row.host or "-",
                f"[{style}]{row.status}[/{style}]",
                f"{row.seconds(now):5.1f}s",
                escape(row.detail[:80]),
            )
        return table

    def grouped(self, now: float) -> Group:
        table = Table(show_header=True, header_style="bold")
        statuses = (RUNNING, *(s.value for s in Status))
        for column in ("step", *statuses, "slowest"):
            table.add_column(column, justify="left" if column in ("step", "slowest") else "right")
        for kind in group(self.rows, now):
            counts = [str(kind.counts.get(s, 0) or "") for s in statuses]
            slowest = ", ".join(f"{host} {seconds:.1f}s" for host, seconds in kind.slowest)
            table.add_row(kind.name, *counts, escape(slowest))
        failed = [(sid, r) for sid, r in self.rows.items() if r.status == Status.FAILED.value]
        lines: list[RenderableType] = [table]
        for sid, row in failed[:FAILURES]:
            lines.append(Text.from_markup(f"[red]failed[/red] {escape(sid)}: {escape(row.detail)}"))
        if len(failed) > FAILURES:
            lines.append(Text(f"... and {len(failed) - FAILURES} more failed (see the summary)"))
        return Group(*lines)

    def __call__(self, event: Event) -> None:
        now = time.monotonic()
        if event.kind == EventKind.STARTED:
            self.rows[event.step] = StepRow(event.name, event.host, RUNNING, now)
            return
        status = event.status.value if event.status else event.kind.value
        row = self.rows.get(event.step)
        started = row.started if row is not None else now
        self.rows[event.step] = StepRow(
            event.name, event.host, status, started, event.elapsed, event.message
        )
        if self.live is None and not self.quiet:
            style = _style(status)
            self.ui.err.print(
                f"[{style}]{status:>9}[/{style}] {event.step} ({event.elapsed:.1f}s)"
                + (f": {escape(event.message)}" if event.message else "")
            )


def _style(status: str) -> str:
    if status == RUNNING:
        return "cyan"
    return _STYLE.get(Status(status), "")


def log_steps(log: JsonlRunLog, redactor: Redactor, summary: RunSummary) -> None:
    """Every step's result into the run log (``kind: "step"``): the full per-host table."""
    for result in summary.results:
        error = result.error.message if result.error is not None else ""
        log(
            CommandRecord(
                host=result.host or "-",
                kind="step",
                elapsed=result.elapsed,
                error=redactor.redact(error),
                extra={
                    "step": result.id,
                    "status": result.status.value,
                    "reason": redactor.redact(result.reason),
                },
            )
        )
