"""remove-member: the etcd member of a master that cannot be reached, removed through a master
that serves the cluster."""

from __future__ import annotations

from dataclasses import dataclass

from sealer.engine.context import RunContext
from sealer.engine.step import StepOutcome, changed, unchanged
from sealer.plan.payloads import RemoveMemberPayload
from sealer.steps.base import KindStep, StepBuilder
from sealer.steps.etcd_safety import prepare_master_reset

__all__ = ["BUILDERS", "RemoveMember"]


@dataclass(frozen=True)
class RemoveMember(KindStep[RemoveMemberPayload]):
    """The etcd member of a master that cannot be reached, removed by its peer URL through a
    master that serves the cluster (after the same health and quorum check as a reset)."""

    async def run(self, _ctx: RunContext) -> StepOutcome:
        if await prepare_master_reset(self.target, self.name, self.host):
            return changed(f"etcd member of {self.host} removed")
        return unchanged(f"{self.host} has no etcd member")


BUILDERS = (StepBuilder(RemoveMemberPayload, RemoveMember),)
