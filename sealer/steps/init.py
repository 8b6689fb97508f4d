"""init: ``kubeadm init`` on master0, with the PKI and configuration sealer made
(:mod:`sealer.steps.control_plane`)."""

from __future__ import annotations

from dataclasses import dataclass

from sealer.engine.context import RunContext
from sealer.engine.step import StepOutcome, changed, unchanged
from sealer.errors import StepError
from sealer.facts.base import collect
from sealer.facts.kube import kube_state
from sealer.layout import INIT_MARKER
from sealer.plan.payloads import InitPayload
from sealer.steps.base import KindStep, StepBuilder
from sealer.steps.control_plane import (
    install_admin_kubeconfig,
    is_control_plane,
    kubeadm_leftovers,
    kubeadm_reset,
    put_master_pki,
    run_kubeadm,
)
from sealer.steps.identity import record_identity_in_cluster, write_host_identity
from sealer.steps.kubeadm_join import run_secrets
from sealer.steps.runtime_check import check_runtime

__all__ = ["BUILDERS", "INIT_VERB", "Init"]

#: ``kubeadm init`` prints neither the token nor a certificate key (kubeadm's own flags).
INIT_VERB = ["init", "--skip-token-print", "--skip-certificate-key-print"]


@dataclass(frozen=True)
class Init(KindStep[InitPayload]):
    """``kubeadm init --config ... --skip-token-print --skip-certificate-key-print`` on master0.

    The configuration carries sealer's bootstrap token (registered for redaction first,
    deleted when the run's joins are done); nothing is uploaded to ``kubeadm-certs`` (sealer
    copies the control-plane certificates itself) and kubeadm prints no secret.

    Runs only on a host that holds no cluster state, or (``reset_half_done``) on master0
    holding sealer's own init that stopped half-way: both re-checked here, since the plan was
    made. A marker written before `kubeadm init` and replaced by the cluster's identity once
    init is done tells the two apart on the next run."""

    async def run(self, _ctx: RunContext) -> StepOutcome:
        t = self.target
        if await is_control_plane(t, self.host):
            return unchanged("the control plane already runs on master0")
        await check_runtime(t, self.name, self.host)
        state = await collect(t.conns, t.access[self.host], kube_state)
        if state.cluster_state and not (self.payload.reset_half_done and state.init_started):
            raise StepError(
                "init",
                self.host,
                f"the host holds cluster state ({', '.join(state.cluster_state)}) that the "
                "plan did not expect: sealer does not initialise a cluster over it; run sealer "
                "again to read the hosts anew",
            )
        if state.cluster_state or await kubeadm_leftovers(t, self.host):
            await kubeadm_reset(t, self.host)
        await write_host_identity(t, self.host, INIT_MARKER)
        await put_master_pki(t, self.host, init_master=True)
        await run_kubeadm(t, self.host, INIT_VERB, await run_secrets(t))
        await install_admin_kubeconfig(t, self.host)
        await record_identity_in_cluster(t, self.host)
        await write_host_identity(t, self.host)
        return changed(f"cluster {t.identity.describe()} initialised")


BUILDERS = (StepBuilder(InitPayload, Init),)
