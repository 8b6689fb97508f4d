"""Runs a :class:`~sealer.engine.graph.Graph`: every ready step at once, within a bound.

* A step starts when every step it depends on succeeded (status ok or changed).
* When a step fails, every step depending on it (transitively) is skipped, naming the failed
  step; independent branches run to the end.
* When the run is interrupted (the task running :meth:`Executor.run` is cancelled, e.g. by
  Ctrl-C, or the context's deadline passes), nothing new starts, running steps are cancelled and
  awaited, and the summary marks them ``cancelled`` and the unstarted ones ``skipped``. On
  cancellation the CancelledError propagates (asyncio semantics are kept); the partial summary is
  on :attr:`Executor.summary`. On a deadline, :meth:`Executor.run` returns the summary with
  ``interrupted="deadline"``.
"""

from __future__ import annotations

import asyncio
import heapq
import time
import traceback
from dataclasses import dataclass, field

from sealer.engine.context import Event, EventKind, RunContext, Status
from sealer.engine.graph import Graph
from sealer.engine.step import Step
from sealer.errors import CommandFailed, SealerError, StepError

__all__ = ["ErrorInfo", "Executor", "RunSummary", "StepResult", "execute"]


@dataclass(frozen=True)
class ErrorInfo:
    """Why a step failed. For CommandFailed: the host, argv, exit status and stderr too.

    ``internal`` is True when the exception was not a SealerError (a bug); ``traceback`` then
    holds the formatted traceback for SEALER_DEBUG output.
    """

    type: str
    message: str
    host: str | None = None
    argv: tuple[str, ...] | None = None
    exit_status: int | None = None
    stderr: str | None = None
    internal: bool = False
    traceback: str = ""

    @classmethod
    def from_exception(cls, exc: BaseException) -> ErrorInfo:
        if isinstance(exc, CommandFailed):
            return cls(
                type=type(exc).__name__,
                message=str(exc),
                host=exc.host,
                argv=tuple(exc.argv),
                exit_status=exc.exit_status,
                stderr=exc.stderr,
            )
        if isinstance(exc, SealerError):
            return cls(type=type(exc).__name__, message=str(exc), host=getattr(exc, "host", None))
        return cls(
            type=type(exc).__name__,
            message=str(exc),
            internal=True,
            traceback="".join(traceback.format_exception(exc)),
        )

    def to_dict(self) -> dict[str, object]:
        data: dict[str, object] = {"type": self.type, "message": self.message}
        if self.host is not None:
            data["host"] = self.host
        if self.argv is not None:
            data.update(argv=list(self.argv), exit_status=self.exit_status, stderr=self.stderr)
        if self.internal:
            data["internal"] = True
        return data


@dataclass(frozen=True)
class StepResult:
    """How one step ended. ``reason``: the step's own reason (ok/changed), why it was skipped
    or cancelled; ``error`` for failed steps, and ``cause``, the exception itself, for a
    runner that reports a failure as the step raised it (``certs renew``)."""

    id: str
    name: str
    host: str | None
    status: Status
    elapsed: float = 0.0
    reason: str = ""
    error: ErrorInfo | None = None
    cause: Exception | None = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict[str, object]:
        data: dict[str, object] = {
            "id": self.id,
            "name": self.name,
            "host": self.host,
            "status": str(self.status),
            "elapsed": round(self.elapsed, 3),
            "reason": self.reason,
        }
        if self.error is not None:
            data["error"] = self.error.to_dict()
        return data


@dataclass(frozen=True)
class RunSummary:
    """Every step's result, in plan order. ``interrupted``: None, "cancelled" or "deadline"."""

    results: tuple[StepResult, ...]
    elapsed: float
    interrupted: str | None = None

    def by_status(self, status: Status) -> list[StepResult]:
        return [r for r in self.results if r.status == status]

    def counts(self) -> dict[str, int]:
        return {str(s): len(self.by_status(s)) for s in Status}

    @property
    def succeeded(self) -> bool:
        """Every step ran and ended ok or changed."""
        return self.interrupted is None and all(
            r.status in (Status.OK, Status.CHANGED) for r in self.results
        )

    @property
    def changed(self) -> bool:
        return any(r.status == Status.CHANGED for r in self.results)

    def result(self, sid: str) -> StepResult:
        for r in self.results:
            if r.id == sid:
                return r
        raise KeyError(sid)

    def errors(self) -> list[StepError]:
        """A StepError (step name, host, message) per failed step, for the CLI's renderer."""
        return [
            StepError(r.name, r.host, r.error.message if r.error else "failed")
            for r in self.by_status(Status.FAILED)
        ]

    def to_dict(self) -> dict[str, object]:
        return {
            "succeeded": self.succeeded,
            "interrupted": self.interrupted,
            "elapsed": round(self.elapsed, 3),
            "counts": self.counts(),
            "steps": [r.to_dict() for r in self.results],
        }


@dataclass
class _State:
    results: dict[str, StepResult] = field(default_factory=dict)
    started: dict[str, float] = field(default_factory=dict)


class Executor:
    """Runs one graph once. ``summary`` holds the (partial) summary after :meth:`run`."""

    def __init__(self, graph: Graph, ctx: RunContext) -> None:
        self.graph = graph
        self.ctx = ctx
        self.summary: RunSummary | None = None
        self._state = _State()

    def _emit(self, kind: EventKind, step: Step, sid: str, result: StepResult | None) -> None:
        self.ctx.events(
            Event(
                kind=kind,
                step=sid,
                name=step.name,
                host=step.host,
                status=result.status if result else None,
                elapsed=result.elapsed if result else 0.0,
                message=(result.error.message if result and result.error else "")
                or (result.reason if result else ""),
            )
        )

    def _finish(self, sid: str, result: StepResult, kind: EventKind) -> None:
        self._state.results[sid] = result
        self._emit(kind, self.graph.step(sid), sid, result)

    async def _run_step(self, sid: str) -> StepResult:
        step = self.graph.step(sid)
        started = time.monotonic()
        try:
            outcome = await step.run(self.ctx)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # every failure is reported, bugs included
            return StepResult(
                sid,
                step.name,
                step.host,
                Status.FAILED,
                time.monotonic() - started,
                error=ErrorInfo.from_exception(exc),
                cause=exc,
            )
        status = Status.CHANGED if outcome.changed else Status.OK
        return StepResult(
            sid, step.name, step.host, status, time.monotonic() - started, outcome.reason
        )

    def _skip(self, sid: str, reason: str) -> None:
        step = self.graph.step(sid)
        self._finish(
            sid,
            StepResult(sid, step.name, step.host, Status.SKIPPED, reason=reason),
            EventKind.SKIPPED,
        )

    async def run(self) -> RunSummary:
        order = self.graph.order()  # raises PlanError on cycles
        rank = {sid: i for i, sid in enumerate(order)}
        waiting = {sid: set(self.graph.dependencies(sid)) for sid in order}
        ready: list[tuple[int, str]] = [(rank[s], s) for s in order if not waiting[s]]
        heapq.heapify(ready)
        running: dict[asyncio.Task[StepResult], str] = {}
        began = time.monotonic()
        interrupted: str | None = None
        try:
            while ready or running:
                remaining = self.ctx.remaining()
                if remaining is not None and remaining <= 0:
                    interrupted = "deadline"
                    break
                while ready and len(running) < self.ctx.concurrency:
                    _, sid = heapq.heappop(ready)
                    self._state.started[sid] = time.monotonic()
                    self._emit(EventKind.STARTED, self.graph.step(sid), sid, None)
                    running[asyncio.create_task(self._run_step(sid), name=sid)] = sid
                done, _ = await asyncio.wait(
                    running, timeout=remaining, return_when=asyncio.FIRST_COMPLETED
                )
                if not done:
                    interrupted = "deadline"
                    break
                for task in sorted(done, key=lambda t: rank[running[t]]):
                    sid = running.pop(task)
                    result = task.result()
                    self._finish(sid, result, EventKind.FINISHED)
                    if result.status == Status.FAILED:
                        for dependent in sorted(self.graph.dependents(sid), key=rank.__getitem__):
                            if dependent not in self._state.results:
                                self._skip(dependent, f"{sid} failed")
                        continue
                    for successor in self.graph.successors(sid):
                        waiting[successor].discard(sid)
                        if not waiting[successor] and successor not in self._state.results:
                            heapq.heappush(ready, (rank[successor], successor))
        except asyncio.CancelledError:
            await self._interrupt(running, "run cancelled")
            self.summary = self._summary(order, began, "cancelled")
            raise
        if interrupted is not None:
            await self._interrupt(running, "deadline exceeded")
        self.summary = self._summary(order, began, interrupted)
        return self.summary

    async def _interrupt(self, running: dict[asyncio.Task[StepResult], str], why: str) -> None:
        for task in running:
            task.cancel()
        if running:
            await asyncio.wait(running)
        for task, sid in running.items():
            step = self.graph.step(sid)
            elapsed = time.monotonic() - self._state.started[sid]
            if task.cancelled():
                result = StepResult(
                    sid, step.name, step.host, Status.CANCELLED, elapsed, f"interrupted: {why}"
                )
                self._finish(sid, result, EventKind.CANCELLED)
            else:  # finished just before it could be cancelled
                self._finish(sid, task.result(), EventKind.FINISHED)
        running.clear()

    def _summary(self, order: list[str], began: float, interrupted: str | None) -> RunSummary:
        why = {"cancelled": "run cancelled", "deadline": "deadline exceeded"}.get(
            interrupted or "", ""
        )
        for sid in order:
            if sid not in self._state.results:
                self._skip(sid, f"not started: {why}" if why else "not started")
        return RunSummary(
            tuple(self._state.results[sid] for sid in order),
            time.monotonic() - began,
            interrupted,
        )


async def execute(graph: Graph, ctx: RunContext) -> RunSummary:
    """Run ``graph`` with ``ctx`` (see :class:`Executor`)."""
    return await Executor(graph, ctx).run()
