"""upgrade-master: one master to the new version, its control plane first.

kubeadm from the staged package; then, unless the host's kube-apiserver manifest already runs
the version, ``kubeadm upgrade plan`` and ``kubeadm upgrade apply vX --yes`` on master0 (the
first master) or ``kubeadm upgrade node`` on the others; then cordon, drain, kubelet and
kubectl, kubelet restart, Ready at the version, uncordon (:mod:`sealer.steps.upgrade_host`);
then the gates: its API server's ``/readyz`` and its etcd member healthy. The planner runs
the masters one at a time, after an etcd snapshot.
"""

from __future__ import annotations

from dataclasses import dataclass

from sealer.engine.context import RunContext
from sealer.engine.step import StepOutcome, changed, unchanged
from sealer.plan.payloads import UpgradeMasterPayload
from sealer.steps.base import KindStep, StepBuilder
from sealer.steps.upgrade_host import KUBEADM_UPGRADE_TIMEOUT, HostUpgrader

__all__ = ["BUILDERS", "UpgradeMaster"]


@dataclass(frozen=True)
class UpgradeMaster(KindStep[UpgradeMasterPayload]):
    async def run(self, _ctx: RunContext) -> StepOutcome:
        p = self.payload
        up = HostUpgrader(self.target, self.name, self.host, p.node_name, p.settings)
        want = up.version
        done: list[str] = []
        if await up.binary_version() != want:
            await up.install(("kubeadm",))
            done.append(f"kubeadm {want}")
        running = await up.apiserver_version()
        if running != want:
            if p.first:
                await up.run(["kubeadm", "upgrade", "plan"], timeout=KUBEADM_UPGRADE_TIMEOUT)
                await up.run(
                    ["kubeadm", "upgrade", "apply", want, "--yes"],
                    timeout=KUBEADM_UPGRADE_TIMEOUT,
                )
                done.append(f"kubeadm upgrade apply {want} (control plane was {running})")
            else:
                await up.run(["kubeadm", "upgrade", "node"], timeout=KUBEADM_UPGRADE_TIMEOUT)
                done.append(f"kubeadm upgrade node (control plane was {running})")
        done += await up.kubelet()
        await up.master_gates()
        if not done:
            return unchanged(f"{p.node_name} already runs {want}")
        await up.adopt_package()
        return changed(", ".join(done) + "; API server ready, etcd healthy")


BUILDERS = (StepBuilder(UpgradeMasterPayload, UpgradeMaster),)
