"""upgrade-node: one worker to the new version, in its batch.

Cordon, drain, then on the host kubeadm from the staged package and ``kubeadm upgrade node``
(the kubelet's configuration for the version), kubelet and kubectl, kubelet restart, Ready at
the version, uncordon (:mod:`sealer.steps.upgrade_host`). The host is touched only once it is
cordoned, so a host that cannot be reached fails the step with the host left cordoned. The
planner runs a batch of ``spec.upgrade.maxUnavailable`` workers at once, after every master
and the batch before.
"""

from __future__ import annotations

from dataclasses import dataclass

from sealer.engine.context import RunContext
from sealer.engine.step import StepOutcome, changed, unchanged
from sealer.plan.payloads import UpgradeNodePayload
from sealer.steps.base import KindStep, StepBuilder
from sealer.steps.upgrade_host import KUBEADM_UPGRADE_TIMEOUT, HostUpgrader

__all__ = ["BUILDERS", "UpgradeNode"]


@dataclass(frozen=True)
class UpgradeNode(KindStep[UpgradeNodePayload]):
    async def run(self, _ctx: RunContext) -> StepOutcome:
        p = self.payload
        up = HostUpgrader(self.target, self.name, self.host, p.node_name, p.settings)
        want = up.version

        async def kubeadm() -> list[str]:
            done = []
            if await up.binary_version() != want:
                await up.install(("kubeadm",))
                done.append(f"kubeadm {want}")
            await up.run(["kubeadm", "upgrade", "node"], timeout=KUBEADM_UPGRADE_TIMEOUT)
            return [*done, "kubeadm upgrade node"]

        done = await up.kubelet(before_kubelet=kubeadm)
        if not done and await up.binary_version() != want:
            await up.install(("kubeadm",))
            done.append(f"kubeadm {want}")
        if not done:
            return unchanged(f"{p.node_name} already runs {want}")
        await up.adopt_package()
        return changed(", ".join(done))


BUILDERS = (StepBuilder(UpgradeNodePayload, UpgradeNode),)
