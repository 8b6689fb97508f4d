"""join-node: ``kubeadm join`` as a worker, through the node's local VIP, once the API answers
reliably there; a worker's join that failed half-way is reset first."""

from __future__ import annotations

from dataclasses import dataclass

from sealer.aio import poll_until
from sealer.engine.context import RunContext
from sealer.engine.step import StepOutcome, changed, unchanged
from sealer.errors import StepError
from sealer.layout import CARE_CONFIG_PATH, CARE_PROGRAM_PATH, ETCD_DATA, ETCD_MANIFEST, PYTHON_PATH
from sealer.plan.payloads import JoinNodePayload
from sealer.steps.api_master import api_master, kubectl, run_repeatable_kubectl
from sealer.steps.base import KindStep, StepBuilder
from sealer.steps.control_plane import (
    READY_TIMEOUT,
    kubeadm_leftovers,
    kubeadm_reset,
    run_kubeadm,
)
from sealer.steps.identity import write_host_identity
from sealer.steps.kubeadm_join import join_secrets
from sealer.steps.runtime_check import check_runtime
from sealer.steps.target import Target

__all__ = ["BUILDERS", "JoinNode"]


async def _node_registered(target: Target, host: str) -> bool:
    """The host's Node object exists (read on the API master). An answer other than "found"
    or "not found" is an error: a join never guesses its way to `kubeadm reset`."""
    name = target.hostname(host)
    argv = kubectl("get", "node", "-o", "name", "--ignore-not-found", "--", name)
    result = await run_repeatable_kubectl(target, target.access[api_master(target)], argv)
    return bool(result.stdout.strip())


async def _reset_half_done_worker(target: Target, host: str) -> bool:
    """A worker's kubeadm join that failed half-way: reset it so that re-running converges.
    A worker holds no cluster data; a host with etcd data is refused (it is a master's)."""
    found = await kubeadm_leftovers(target, host)
    if not found:
        return False
    if ETCD_DATA in found or ETCD_MANIFEST in found:
        raise StepError(
            "join-node",
            host,
            "the host holds etcd data: it was a master of some cluster; sealer does not reset "
            "it as a node (clean it with `sealer clean` first if it is to become a node)",
        )
    await kubeadm_reset(target, host)
    return True


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


async def _node_ready(target: Target, host: str) -> str:
    """The status of the host's Node's Ready condition ("" when it has none)."""
    name = target.hostname(host)
    ready = 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'
    argv = kubectl("get", "node", "-o", ready, "--", name)
    result = await run_repeatable_kubectl(target, target.access[api_master(target)], argv)
    return result.stdout.strip()


#: Seconds between two looks at a re-joining node's Ready condition.
NOT_READY_POLL = 2.0


async def _wait_not_ready(target: Target, host: str) -> None:
    """kubeadm join refuses a name whose Node is Ready; a kubelet that cannot authenticate
    stops renewing its Node, which the node controller marks Unknown after its grace period
    (40 s): wait for that instead of deleting the Node (it keeps its uid, labels, taints)."""
    status = await poll_until(
        lambda: _node_ready(target, host),
        timeout=READY_TIMEOUT,
        interval=NOT_READY_POLL,
        done=lambda ready: ready != "True",
    )
    if status == "True":
        raise StepError(
            "join-node",
            host,
            f"its Node {target.hostname(host)} is still Ready after {READY_TIMEOUT:.0f}s: its "
            "kubelet still reaches the API server, so kubeadm will not join it again",
        )


@dataclass(frozen=True)
class JoinNode(KindStep[JoinNodePayload]):
    """``kubeadm join --config`` with a worker JoinConfiguration, through the local VIP."""

    async def run(self, _ctx: RunContext) -> StepOutcome:
        t = self.target
        if self.payload.rejoin:
            return await self._rejoin()
        if await _node_registered(t, self.host):
            return unchanged("already a node of the cluster")
        await check_runtime(t, self.name, self.host)
        await _wait_for_vip(t, self.host)
        secrets = await join_secrets(t, api_master(t))
        await _reset_half_done_worker(t, self.host)
        await run_kubeadm(t, self.host, ["join"], secrets)
        await write_host_identity(t, self.host)
        return changed("joined the cluster")

    async def _rejoin(self) -> StepOutcome:
        """Reset the kubelet's stale credentials (``kubeadm reset``; a worker holds no cluster
        data, a host with etcd data is refused), then join again with a fresh token: the
        kubelet gets a new client certificate from the cluster CA."""
        t = self.target
        await _wait_for_vip(t, self.host)
        await _wait_not_ready(t, self.host)
        secrets = await join_secrets(t, api_master(t))
        await _reset_half_done_worker(t, self.host)
        await run_kubeadm(t, self.host, ["join"], secrets)
        await write_host_identity(t, self.host)
        return changed("re-joined: its kubelet's credentials were reset and issued again")


BUILDERS = (StepBuilder(JoinNodePayload, JoinNode),)
