"""The unit of work of the engine: a :class:`Step` and what it reports (:class:`StepOutcome`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from sealer.engine.context import RunContext

__all__ = ["Step", "StepOutcome", "changed", "step_id", "unchanged"]


@runtime_checkable
class Step(Protocol):
    """One change on one host (or on the cluster when ``host`` is None).

    ``name`` says what it does ("join-node"); with the host it makes the node id
    ("join-node@10.0.0.5"). Dependencies are not part of the step: they are edges of the
    :class:`~sealer.engine.graph.Graph`. ``run`` makes the change and says whether anything
    changed; it raises a :class:`~sealer.errors.SealerError` when it cannot.

    ``ctx`` is positional-only: the executor passes it positionally, so a step that does not
    need the run context names the parameter ``_ctx`` (ruff's ARG rule then knows it is
    unused on purpose, and the step still satisfies this protocol).
    """

    @property
    def name(self) -> str: ...

    @property
    def host(self) -> str | None: ...

    async def run(self, ctx: RunContext, /) -> StepOutcome: ...


@dataclass(frozen=True)
class StepOutcome:
    """What a step did: ``changed`` or not, and why (one line, shown in the summary)."""

    changed: bool
    reason: str


def changed(reason: str) -> StepOutcome:
    return StepOutcome(True, reason)


def unchanged(reason: str) -> StepOutcome:
    return StepOutcome(False, reason)


def step_id(step: Step) -> str:
    """``name@host``, or ``name`` for cluster-wide steps."""
    return step.name if step.host is None else f"{step.name}@{step.host}"
