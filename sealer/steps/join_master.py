"""join-master: ``kubeadm join`` as a control-plane member, via the API master, with the PKI
and configuration sealer made (:mod:`sealer.steps.control_plane`)."""

from __future__ import annotations

from dataclasses import dataclass

from sealer.aio import poll_until
from sealer.engine.context import RunContext
from sealer.engine.step import StepOutcome, changed, unchanged
from sealer.errors import StepError
from sealer.plan.payloads import JoinMasterPayload
from sealer.steps.api_master import api_master
from sealer.steps.base import KindStep, StepBuilder
from sealer.steps.control_plane import (
    READY_TIMEOUT,
    install_admin_kubeconfig,
    is_control_plane,
    kubeadm_leftovers,
    kubeadm_reset,
    put_master_pki,
    run_kubeadm,
)
from sealer.steps.etcd_safety import prepare_master_reset
from sealer.steps.hosts import write_hosts_block
from sealer.steps.identity import write_host_identity
from sealer.steps.kubeadm_join import join_secrets
from sealer.steps.runtime_check import check_runtime
from sealer.steps.target import Target

__all__ = ["BUILDERS", "JoinMaster"]


async def _wait_ready(target: Target, host: str) -> None:
    """Wait until ``host``'s API server is ready (its etcd member included): the next member
    must not join while this one is still catching up, or etcd reports an unhealthy cluster."""
    ready = await poll_until(
        lambda: is_control_plane(target, host), timeout=READY_TIMEOUT, interval=1.0
    )
    if not ready:
        raise StepError(
            "join-master",
            host,
            f"the API server did not become ready within {READY_TIMEOUT:.0f}s of the join",
        )


@dataclass(frozen=True)
class JoinMaster(KindStep[JoinMasterPayload]):
    """``kubeadm join --config`` with a control-plane JoinConfiguration, via master0.

    A host left half-way by an earlier join is reset first, and only when that cannot cost the
    cluster its data: etcd must be healthy, and a member the host still has in etcd is removed
    first (when what remains keeps a quorum). Once joined, the host's /etc/hosts block is the
    one the planner decided for it (``hosts_after_join``: its own address)."""

    async def run(self, _ctx: RunContext) -> StepOutcome:
        t = self.target
        if await is_control_plane(t, self.host):
            return unchanged("already a control-plane member")
        await check_runtime(t, self.name, self.host)
        secrets = await join_secrets(t, api_master(t))
        if await kubeadm_leftovers(t, self.host):
            await prepare_master_reset(t, self.name, self.host)
            await kubeadm_reset(t, self.host)
        await put_master_pki(t, self.host, init_master=False)
        await run_kubeadm(t, self.host, ["join"], secrets)
        await install_admin_kubeconfig(t, self.host)
        await _wait_ready(t, self.host)
        await write_hosts_block(t, self.host, self.payload.hosts_after_join)
        await write_host_identity(t, self.host)
        return changed("joined the control plane")


BUILDERS = (StepBuilder(JoinMasterPayload, JoinMaster),)
