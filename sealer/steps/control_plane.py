"""init, join-master and join-node: kubeadm with a configuration file sealer rendered.

Before ``kubeadm init`` or a control-plane join, sealer puts the whole PKI of that master in
place (long-lived leaves from the cluster's CAs): kubeadm validates existing files against
the CA and keeps them. The configuration used is kept, secrets replaced by placeholders, at
/etc/kubernetes/sealer/kubeadm.yaml; the copy with the real token and key is written 0600
just for the kubeadm run and removed after it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sealer.aio import poll_until
from sealer.engine.context import RunContext
from sealer.engine.step import StepOutcome, changed, unchanged
from sealer.errors import StepError
from sealer.facts.base import collect
from sealer.facts.health import api_ready
from sealer.facts.kube import kube_state
from sealer.kube.kubeadm_config import JoinSecrets, render_kubeadm_config
from sealer.kube.pki import issue_master_pki
from sealer.layout import (
    ADMIN_CONF,
    APISERVER_MANIFEST,
    CARE_CONFIG_PATH,
    CARE_PROGRAM_PATH,
    ETCD_DATA,
    ETCD_MANIFEST,
    INIT_MARKER,
    KUBEADM_CONFIG_PATH,
    KUBEADM_RUN_CONFIG_PATH,
    KUBELET_CONF,
    PYTHON_PATH,
    SEALER_KUBE_DIR,
    USER_KUBECONFIG,
)
from sealer.plan.payloads import InitPayload, JoinMasterPayload, JoinNodePayload
from sealer.steps.base import KindStep, StepBuilder
from sealer.steps.etcd_safety import prepare_master_reset
from sealer.steps.hosts import write_hosts_block
from sealer.steps.identity import record_identity_in_cluster, write_host_identity
from sealer.steps.kubeadm_join import join_secrets
from sealer.steps.remote_files import upload_kubernetes_files
from sealer.steps.target import Target

__all__ = ["BUILDERS", "Init", "JoinMaster", "JoinNode", "api_master"]

#: kubeadm init/join wait for the control plane; give them room on slow machines.
KUBEADM_TIMEOUT = 900.0


def api_master(target: Target) -> str:
    """The master whose API server and kubeadm the run uses for cluster-wide commands."""
    return target.live.api_host or target.cluster.spec.master0


KUBECTL = ("kubectl", "--kubeconfig", ADMIN_CONF)
#: How long a new control-plane member may take to serve /readyz after its join.
READY_TIMEOUT = 300.0


async def _wait_ready(target: Target, host: str) -> None:
    """Wait until ``host``'s API server is ready (its etcd member included): the next member
    must not join while this one is still catching up, or etcd reports an unhealthy cluster."""
    ready = await poll_until(
        lambda: _is_control_plane(target, host), timeout=READY_TIMEOUT, interval=1.0
    )
    if not ready:
        raise StepError(
            "join-master",
            host,
            f"the API server did not become ready within {READY_TIMEOUT:.0f}s of the join",
        )


async def _is_control_plane(target: Target, host: str) -> bool:
    return (await collect(target.conns, target.access[host], api_ready)).ok


async def _run_kubeadm(
    target: Target, host: str, verb: list[str], secrets: JoinSecrets | None
) -> None:
    access = target.access[host]
    shown = render_kubeadm_config(target.cluster, host, target.kube_facts.get(host))
    real = render_kubeadm_config(target.cluster, host, target.kube_facts.get(host), secrets)
    await target.conns.run(access, ["mkdir", "-p", SEALER_KUBE_DIR])
    await target.conns.put(access, shown.to_yaml().encode(), KUBEADM_CONFIG_PATH, mode=0o600)
    await target.conns.put(access, real.to_yaml().encode(), KUBEADM_RUN_CONFIG_PATH, mode=0o600)
    try:
        await target.conns.run(
            access, ["kubeadm", *verb, "--config", KUBEADM_RUN_CONFIG_PATH], timeout=KUBEADM_TIMEOUT
        )
    finally:
        await target.conns.run(access, ["rm", "-f", KUBEADM_RUN_CONFIG_PATH], check=False)


async def _node_registered(target: Target, host: str) -> bool:
    """The host's Node object exists (read on the API master). An answer other than "found"
    or "not found" is an error: a join never guesses its way to `kubeadm reset`."""
    name = target.hostname(host)
    argv = [*KUBECTL, "get", "node", "-o", "name", "--ignore-not-found", "--", name]
    result = await target.conns.run(target.access[api_master(target)], argv)
    return bool(result.stdout.strip())


#: What a kubeadm run leaves on a host that makes the next one refuse to start (its preflight).
LEFTOVERS = (KUBELET_CONF, APISERVER_MANIFEST, ETCD_MANIFEST, ETCD_DATA)


async def _leftovers(target: Target, host: str) -> list[str]:
    state = await collect(target.conns, target.access[host], kube_state)
    return [p for p in LEFTOVERS if p in state.present]


async def _reset(target: Target, host: str) -> None:
    await target.conns.run(target.access[host], ["kubeadm", "reset", "-f"], timeout=KUBEADM_TIMEOUT)


async def _reset_half_done_worker(target: Target, host: str) -> bool:
    """A worker's kubeadm join that failed half-way: reset it so that re-running converges.
    A worker holds no cluster data; a host with etcd data is refused (it is a master's)."""
    found = await _leftovers(target, host)
    if not found:
        return False
    if ETCD_DATA in found or ETCD_MANIFEST in found:
        raise StepError(
            "join-node",
            host,
            "the host holds etcd data: it was a master of some cluster; sealer does not reset "
            "it as a node (clean it with `sealer clean` first if it is to become a node)",
        )
    await _reset(target, host)
    return True


async def _admin_kubeconfig(target: Target, host: str) -> None:
    access = target.access[host]
    await target.conns.run(access, ["mkdir", "-p", USER_KUBECONFIG.rsplit("/", 1)[0]])
    await target.conns.run(access, ["install", "-m", "0600", ADMIN_CONF, USER_KUBECONFIG])


async def _put_master_pki(target: Target, host: str, *, init_master: bool) -> None:
    live = target.live
    files = issue_master_pki(
        target.ca,
        target.cluster,
        host,
        target.hostname(host),
        # the other masters' addresses, when the file names them by DNS name
        extra_sans=[
            live.resolved[m] for m in target.cluster.spec.master_addresses if m in live.resolved
        ],
        node_ip=live.resolved.get(host),
        init_master=init_master,
    )
    await upload_kubernetes_files(target, host, files)


@dataclass(frozen=True)
class Init(KindStep[InitPayload]):
    """``kubeadm init --config ... --upload-certs`` on master0.

    Runs only on a host that holds no cluster state, or (``reset_half_done``) on master0
    holding sealer's own init that stopped half-way: both re-checked here, since the plan was
    made. A marker written before `kubeadm init` and replaced by the cluster's identity once
    init is done tells the two apart on the next run."""

    async def run(self, _ctx: RunContext) -> StepOutcome:
        t = self.target
        if await _is_control_plane(t, self.host):
            return unchanged("the control plane already runs on master0")
        state = await collect(t.conns, t.access[self.host], kube_state)
        if state.cluster_state and not (self.payload.reset_half_done and state.init_started):
            raise StepError(
                "init",
                self.host,
                f"the host holds cluster state ({', '.join(state.cluster_state)}) that the "
                "plan did not expect: sealer does not initialise a cluster over it; run sealer "
                "again to read the hosts anew",
            )
        if state.cluster_state or await _leftovers(t, self.host):
            await _reset(t, self.host)
        await write_host_identity(t, self.host, INIT_MARKER)
        await _put_master_pki(t, self.host, init_master=True)
        await _run_kubeadm(t, self.host, ["init", "--upload-certs"], None)
        await _admin_kubeconfig(t, self.host)
        await record_identity_in_cluster(t, self.host)
        await write_host_identity(t, self.host)
        return changed(f"cluster {t.identity.describe()} initialised")


@dataclass(frozen=True)
class JoinMaster(KindStep[JoinMasterPayload]):
    """``kubeadm join --config`` with a control-plane JoinConfiguration, via master0.

    A host left half-way by an earlier join is reset first, and only when that cannot cost the
    cluster its data: etcd must be healthy, and a member the host still has in etcd is removed
    first (when what remains keeps a quorum). Once joined, the host's /etc/hosts block is the
    one the planner decided for it (``hosts_after_join``: its own address)."""

    async def run(self, _ctx: RunContext) -> StepOutcome:
        t = self.target
        if await _is_control_plane(t, self.host):
            return unchanged("already a control-plane member")
        secrets = await join_secrets(t, api_master(t), control_plane=True)
        if await _leftovers(t, self.host):
            await prepare_master_reset(t, self.name, self.host)
            await _reset(t, self.host)
        await _put_master_pki(t, self.host, init_master=False)
        await _run_kubeadm(t, self.host, ["join"], secrets)
        await _admin_kubeconfig(t, self.host)
        await _wait_ready(t, self.host)
        await write_hosts_block(t, self.host, self.payload.hosts_after_join)
        await write_host_identity(t, self.host)
        return changed("joined the control plane")


#: Consecutive good answers through the VIP before a node joins: the load balancer spreads
#: connections round robin, so this many in a row means no dead master is left in its rules.
VIP_GOOD_ANSWERS = 6


async def _wait_for_vip(target: Target, host: str) -> None:
    """Wait until the API answers through the node's VIP (its care daemon has taken out the
    masters that do not answer yet), so `kubeadm join` does not meet a refused connection."""
    spec = target.cluster.spec
    argv = [
        PYTHON_PATH, CARE_PROGRAM_PATH, "--config", CARE_CONFIG_PATH,
        "--check-vip", str(VIP_GOOD_ANSWERS),
    ]  # fmt: skip
    access = target.access[host]
    result = await poll_until(
        lambda: target.conns.run(access, argv, check=False),
        timeout=READY_TIMEOUT,
        interval=1.0,
        done=lambda answer: answer.ok,
    )
    if not result.ok:
        raise StepError(
            "join-node",
            host,
            f"the API does not answer reliably through the VIP {spec.vip}:6443: "
            f"{(result.stderr or result.stdout).strip()[-200:]} "
            f"(is sealer-care running? `systemctl status sealer-care` on {host})",
        )


@dataclass(frozen=True)
class JoinNode(KindStep[JoinNodePayload]):
    """``kubeadm join --config`` with a worker JoinConfiguration, through the local VIP."""

    async def run(self, _ctx: RunContext) -> StepOutcome:
        t = self.target
        if await _node_registered(t, self.host):
            return unchanged("already a node of the cluster")
        await _wait_for_vip(t, self.host)
        secrets = await join_secrets(t, api_master(t), control_plane=False)
        await _reset_half_done_worker(t, self.host)
        await _run_kubeadm(t, self.host, ["join"], secrets)
        await write_host_identity(t, self.host)
        return changed("joined the cluster")


BUILDERS = (
    StepBuilder(InitPayload, Init),
    StepBuilder(JoinMasterPayload, JoinMaster),
    StepBuilder(JoinNodePayload, JoinNode),
)
