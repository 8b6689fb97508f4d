"""What every planned step is made of, and how a step module says which kind it builds.

A step of the plan is a :class:`KindStep`: the run's :class:`Target`, the host it changes and
the payload the planner decided (its name is the payload's kind). A step module declares what
it builds with :class:`StepBuilder` constants in its ``BUILDERS`` tuple;
:mod:`sealer.steps.registry` collects them and checks, at import, that every kind has exactly
one builder.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from sealer.engine.step import Step
from sealer.errors import PlanError
from sealer.plan.kinds import StepKind
from sealer.plan.payloads import StepPayload
from sealer.steps.target import Target

__all__ = ["KindStep", "StepBuilder"]

P = TypeVar("P", bound=StepPayload)


@dataclass(frozen=True)
class KindStep(Generic[P]):
    """A step of one kind on one host, carrying out what the planner decided (``payload``)."""

    target: Target
    host: str
    payload: P

    @property
    def name(self) -> str:
        return self.payload.kind.value


@dataclass(frozen=True)
class StepBuilder(Generic[P]):
    """The payload class of a kind and what makes its executable step from one payload."""

    payload_type: type[P]
    make: Callable[[Target, str, P], Step]

    @property
    def kind(self) -> StepKind:
        return self.payload_type.kind

    def build(self, target: Target, host: str, payload: StepPayload) -> Step:
        if not isinstance(payload, self.payload_type):
            raise PlanError(
                f"step {self.kind} on {host} got a {type(payload).__name__}, "
                f"not a {self.payload_type.__name__}"
            )
        return self.make(target, host, payload)
