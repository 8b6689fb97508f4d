"""The DAG executor: steps, their graph, the run context and the run summary."""

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
