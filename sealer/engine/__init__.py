"""The DAG executor: steps, their graph, the run context and the run summary."""

from __future__ import annotations

import importlib
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

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

# Imported on first use (PEP 562), so that a command that needs one light module of this
# package does not pay for the others (docs/benchmarks.md, start-up).
_HOMES = MappingProxyType(
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
    }
)


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(home), name)
