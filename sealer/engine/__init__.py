"""The DAG executor: steps, their graph, the run context and the run summary."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sealer.lazy import lazy_exports

if TYPE_CHECKING:
    from sealer.engine.context import (
        DEFAULT_STEP_CONCURRENCY,
        Event,
        EventKind,
        EventSink,
        RunContext,
        Status,
    )
    from sealer.engine.executor import ErrorInfo, Executor, RunSummary, StepResult, execute
    from sealer.engine.graph import Graph
    from sealer.engine.step import Step, StepOutcome, changed, step_id, unchanged

__all__ = [
    "DEFAULT_STEP_CONCURRENCY",
    "ErrorInfo",
    "Event",
    "EventKind",
    "EventSink",
    "Executor",
    "Graph",
    "RunContext",
    "RunSummary",
    "Status",
    "Step",
    "StepOutcome",
    "StepResult",
    "changed",
    "execute",
    "step_id",
    "unchanged",
]

# Imported on first use (sealer/lazy.py).
__getattr__ = lazy_exports(
    __name__,
    {
        "DEFAULT_STEP_CONCURRENCY": "sealer.engine.context",
        "Event": "sealer.engine.context",
        "EventKind": "sealer.engine.context",
        "EventSink": "sealer.engine.context",
        "RunContext": "sealer.engine.context",
        "Status": "sealer.engine.context",
        "ErrorInfo": "sealer.engine.executor",
        "Executor": "sealer.engine.executor",
        "RunSummary": "sealer.engine.executor",
        "StepResult": "sealer.engine.executor",
        "execute": "sealer.engine.executor",
        "Graph": "sealer.engine.graph",
        "Step": "sealer.engine.step",
        "StepOutcome": "sealer.engine.step",
        "changed": "sealer.engine.step",
        "step_id": "sealer.engine.step",
        "unchanged": "sealer.engine.step",
    },
)
