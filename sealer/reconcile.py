"""One run of sealer against a cluster: read live state, plan, and carry the plan out.

This module wires the layers together; each has one job: :mod:`sealer.plan.observe` reads,
:mod:`sealer.plan.diff` decides, :mod:`sealer.steps` change, :mod:`sealer.engine` runs the
graph. The CLI calls these functions and renders what they return.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sealer.aio import gather_all
from sealer.connect import Connections, HostAccess
from sealer.engine import Graph, RunContext, RunSummary, execute
from sealer.errors import ConnectError, KubeError
from sealer.facts.base import collect
from sealer.facts.cluster_ca import MissingCAFile, read_ca
from sealer.facts.identity import ClusterIdentity, host_identity
from sealer.kube.pki import ClusterCA
from sealer.offline_package import LocalPackage, prepare_cluster_package
from sealer.plan.access import host_access
from sealer.plan.diff import Plan, make_plan
from sealer.plan.observe import Observation, observe
from sealer.plan.state import ClusterState
from sealer.spec.model import Cluster
from sealer.steps.graph import apply_graph, clean_graph
from sealer.steps.kubeadm_join import revoke_join_secrets
from sealer.steps.target import Target

__all__ = [
    "ApplyGraph",
    "Planned",
    "clean",
    "cluster_ca",
    "decide",
    "foreign_hosts",
    "graph_for",
    "plan",
    "target_for",
]


@dataclass(frozen=True)
class Planned:
    cluster: Cluster
    package: LocalPackage
    observation: Observation
    plan: Plan


async def plan(
    conns: Connections,
    cluster: Cluster,
    cache_dir: Path | None = None,
    *,
    connect_timeout: float = 10.0,
    package: LocalPackage | None = None,
    ignore_preflight: Sequence[str] = (),
    identity: ClusterIdentity | None = None,
    skip_drain: bool = False,
) -> Planned:
    """Read every host and the cluster, and decide what apply would do (changes nothing).

    ``package``: the package already prepared (apply prepares it before taking the run lock,
    as a download would block the lock's heartbeat). ``ignore_preflight``: preflight checks
    skipped (besides ``spec.preflight.ignore``). ``identity``: what a new cluster records
    (a restore onto fresh masters gives the archive's; by default a new one). ``skip_drain``:
    an upgrade cordons hosts without draining them."""
    if package is None:
        package = prepare_cluster_package(cluster, cache_dir)
    observation = await observe(conns, cluster, package.name, connect_timeout=connect_timeout)
    return decide(cluster, package, observation, ignore_preflight, identity, skip_drain)


def decide(
    cluster: Cluster,
    package: LocalPackage,
    observation: Observation,
    ignore_preflight: Sequence[str] = (),
    identity: ClusterIdentity | None = None,
    skip_drain: bool = False,
) -> Planned:
    """The plan for what ``observation`` read (pure; a PlanError when it cannot be made)."""
    fresh = identity or ClusterIdentity.new(cluster.metadata.name)
    decided = make_plan(
        cluster, observation.state, package, fresh, ignore_preflight, skip_drain=skip_drain
    )
    return Planned(cluster, package, observation, decided)


async def cluster_ca(conns: Connections, planned: Planned) -> ClusterCA:
    """The cluster's CAs: those of the running cluster (or of a half-done init on master0),
    else new ones. Keys are read over SSH and stay in memory."""
    state = planned.observation.state
    spec = planned.cluster.spec
    source = state.api_host or spec.master0
    access = planned.observation.access[source]
    found: ClusterCA | None
    try:
        found = await read_ca(conns, access)
    except MissingCAFile:
        found = None
    except KubeError:
        if state.initialized:
            raise
        found = None  # a broken leftover of a failed init: start afresh
    if found is None and state.initialized:
        raise KubeError(
            f"{source}: the cluster runs but its CA files under /etc/kubernetes/pki are "
            "incomplete; sealer will not issue certificates from a new CA for it"
        )
    return found or ClusterCA.generate(spec)


def target_for(
    conns: Connections, planned: Planned, ca: ClusterCA | None, upload_limit: int | None = None
) -> Target:
    """``upload_limit``: ``--upload-limit``, bytes per second on each relay link."""
    obs = planned.observation
    return Target(
        cluster=planned.cluster,
        access=obs.access,
        live=obs.state,
        conns=conns,
        kube_facts=obs.kube_facts,
        package_or_none=planned.package,
        ca_or_none=ca,
        identity_or_none=planned.plan.identity,
        upload_limit=upload_limit,
    )


@dataclass(frozen=True)
class ApplyGraph:
    """The step graph of an apply and what its steps share; :meth:`finish` once it ran."""

    graph: Graph
    target: Target

    @classmethod
    def of(cls, plan: Plan, target: Target) -> ApplyGraph:
        """The graph of ``plan`` against ``target`` (whose CA the caller chose)."""
        return cls(apply_graph(plan, target), target)

    async def finish(self) -> list[str]:
        """Delete the join credentials the run made (its bootstrap token, any kubeadm-certs
        Secret), whether the steps succeeded or not; returns what could not be done."""
        return await revoke_join_secrets(self.target)


async def graph_for(
    conns: Connections, planned: Planned, upload_limit: int | None = None
) -> ApplyGraph:
    ca = await cluster_ca(conns, planned)
    return ApplyGraph.of(planned.plan, target_for(conns, planned, ca, upload_limit))


def _clean_access(cluster: Cluster, connect_timeout: float) -> dict[str, HostAccess]:
    return {
        address: host_access(cluster, address, connect_timeout=connect_timeout)
        for address in cluster.spec.all_addresses
    }


async def foreign_hosts(
    conns: Connections, cluster: Cluster, *, connect_timeout: float = 10.0
) -> list[str]:
    """Hosts of the Clusterfile that record another cluster's identity (another name, or a uid
    that differs from the other hosts'), each as "ADDRESS: what it records". Unreachable hosts
    are skipped (clean reports them)."""
    access = _clean_access(cluster, connect_timeout)

    async def read(address: str) -> ClusterIdentity | None:
        try:
            return await collect(conns, access[address], host_identity)
        except ConnectError:
            return None

    found = dict(zip(access, await gather_all(*(read(a) for a in access)), strict=True))
    name = cluster.metadata.name
    uids = Counter(i.uid for i in found.values() if i is not None and i.name == name)
    usual = uids.most_common(1)[0][0] if uids else None
    return [
        f"{address}: cluster {identity.describe()}"
        for address, identity in found.items()
        if identity is not None and (identity.name != name or identity.uid != usual)
    ]


async def clean(
    conns: Connections, cluster: Cluster, ctx: RunContext, *, connect_timeout: float = 10.0
) -> RunSummary:
    """Clean every host of the Clusterfile: nodes together, then masters one by one.

    Needs neither the package nor the cluster's state: cleaning is safe on any host."""
    spec = cluster.spec
    access = _clean_access(cluster, connect_timeout)
    target = Target(cluster=cluster, access=access, live=ClusterState(hosts={}), conns=conns)
    graph = clean_graph(target, spec.all_addresses, spec.master_addresses)
    return await execute(graph, ctx)
