"""delete-node: the Node object of a host that left, deleted on the API master."""

from __future__ import annotations

from dataclasses import dataclass

from sealer.engine.context import RunContext
from sealer.engine.step import StepOutcome, changed, unchanged
from sealer.plan.payloads import DeleteNodePayload
from sealer.steps.api_master import api_master, kubectl, run_repeatable_kubectl
from sealer.steps.base import KindStep, StepBuilder

__all__ = ["BUILDERS", "DeleteNode"]


@dataclass(frozen=True)
class DeleteNode(KindStep[DeleteNodePayload]):
    async def run(self, _ctx: RunContext) -> StepOutcome:
        t = self.target
        node_name = self.payload.node_name
        access = t.access[api_master(t)]
        argv = kubectl("delete", "node", "--ignore-not-found", "--", node_name)
        result = await run_repeatable_kubectl(t, access, argv)
        if not result.stdout.strip():
            return unchanged(f"node {node_name} was already gone")
        return changed(f"deleted node {node_name}")


BUILDERS = (StepBuilder(DeleteNodePayload, DeleteNode),)
