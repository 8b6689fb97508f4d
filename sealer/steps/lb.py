"""ipvs: the node-local load balancer (the care daemon) installed, configured and running.

Files go over SFTP (program, cluster CA, configuration, unit), then the unit is enabled and
started; the daemon creates the VIP rules at start, before ``kubeadm join`` needs them, and
again at every boot before kubelet. A configuration change (the master set changed) is
applied by restarting the daemon, which keeps its rules meanwhile: nodes never lose the VIP.
"""

from __future__ import annotations

from dataclasses import dataclass

from sealer.engine.context import RunContext
from sealer.engine.step import StepOutcome, changed, unchanged
from sealer.layout import CARE_CONFIG_PATH, CARE_PROGRAM_PATH, CARE_UNIT_NAME, PYTHON_PATH
from sealer.lb.render import enable_argv, install_files
from sealer.plan.payloads import IpvsPayload
from sealer.steps.base import KindStep, StepBuilder

__all__ = ["BUILDERS", "LoadBalancer"]


@dataclass(frozen=True)
class LoadBalancer(KindStep[IpvsPayload]):
    async def run(self, _ctx: RunContext) -> StepOutcome:
        t = self.target
        access = t.access[self.host]
        config = self.payload.config
        wrote: list[str] = []
        for item in install_files(config, t.ca.ca.cert_pem()):
            current = await t.conns.read_file(access, item.path)
            if current == item.content:
                continue
            parent = item.path.rsplit("/", 1)[0]
            await t.conns.run(access, ["mkdir", "-p", parent])
            await t.conns.put(access, item.content, item.path, mode=item.mode)
            wrote.append(item.path)
        active = await t.conns.run(access, ["systemctl", "is-active", CARE_UNIT_NAME], check=False)
        if not wrote and active.ok:
            return unchanged("load balancer installed and running")
        # Rules first (--run-once: every configured master, idempotent), so the VIP exists
        # whatever the init system does with Type=notify; then the daemon, whose first probes
        # take out the masters that do not answer yet.
        run_once = [PYTHON_PATH, CARE_PROGRAM_PATH, "--run-once", "--config", CARE_CONFIG_PATH]
        if not active.ok:
            await t.conns.run(access, run_once)
        for argv in enable_argv():
            await t.conns.run(access, argv)
        if wrote and active.ok:
            # The daemon keeps its rules across a restart, so the VIP never goes away.
            await t.conns.run(access, ["systemctl", "restart", CARE_UNIT_NAME])
        masters = ", ".join(self.payload.backends)
        return changed(f"VIP {t.cluster.spec.vip}:6443 -> {masters}")


BUILDERS = (StepBuilder(IpvsPayload, LoadBalancer),)
