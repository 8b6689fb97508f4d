"""drain: ``kubectl drain`` of a node that leaves, run on the API master; a node the cluster
does not have is left alone."""

from __future__ import annotations

from dataclasses import dataclass

from sealer.engine.context import RunContext
from sealer.engine.step import StepOutcome, changed, unchanged
from sealer.plan.payloads import DrainPayload
from sealer.steps.api_master import api_master, kubectl, run_repeatable_kubectl
from sealer.steps.base import KindStep, StepBuilder

__all__ = ["BUILDERS", "Drain"]

DRAIN_TIMEOUT = "300s"


@dataclass(frozen=True)
class Drain(KindStep[DrainPayload]):
    async def run(self, _ctx: RunContext) -> StepOutcome:
        t = self.target
        node_name = self.payload.node_name
        access = t.access[api_master(t)]
        # "not found" is the only answer that skips the drain; any other failure stops here
        query = kubectl("get", "node", "-o", "name", "--ignore-not-found", "--", node_name)
        if not (await run_repeatable_kubectl(t, access, query)).stdout.strip():
            return unchanged(f"node {node_name} is not in the cluster")
        argv = kubectl(
            "drain",
            "--ignore-daemonsets",
            "--delete-emptydir-data",
            "--force",
            f"--timeout={DRAIN_TIMEOUT}",
            "--",
            node_name,
        )
        await run_repeatable_kubectl(t, access, argv, timeout=600.0)
        return changed(f"drained {node_name}")


BUILDERS = (StepBuilder(DrainPayload, Drain),)
