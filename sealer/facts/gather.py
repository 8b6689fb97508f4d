"""Gather the standard facts of many hosts at once, through one :class:`Connections`."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sealer.aio import gather_all
from sealer.connect import Connections, HostAccess
from sealer.errors import ConnectError
from sealer.facts.addon import AppliedAddon, applied_addon
from sealer.facts.base import Fact, collect, collect_many
from sealer.facts.cluster import EtcdMember, NodeInfo, etcd_members, kube_nodes
from sealer.facts.hosts import HostsEntry, hosts_block
from sealer.facts.identity import ClusterIdentity, cluster_identity_configmap, host_identity
from sealer.facts.kube import (
    KubeState,
    kube_state,
    kubeadm_version,
    kubectl_version,
    kubelet_version,
)
from sealer.facts.system import Arch, OsRelease, arch, hostname, os_release, python3

__all__ = ["ClusterFacts", "HostFacts", "gather_cluster_facts", "gather_host_facts"]


@dataclass(frozen=True)
class HostFacts:
    """What one host looks like. Unreachable hosts have ``reachable=False``, the ConnectError
    in ``error`` and every other field None."""

    host: HostAccess
    reachable: bool
    error: ConnectError | None = None
    hostname: str | None = None
    os: OsRelease | None = None
    arch: Arch | None = None
    python3: str | None = None
    kubeadm: str | None = None
    kubelet: str | None = None
    kubectl: str | None = None
    kube: KubeState | None = None
    hosts_block: tuple[HostsEntry, ...] | None = None
    identity: ClusterIdentity | None = None


#: The per-host facts, read in one remote command (see :func:`collect_many`).
HOST_FACTS: tuple[Fact[Any], ...] = (
    hostname,
    os_release,
    arch,
    python3,
    kubeadm_version,
    kubelet_version,
    kubectl_version,
    kube_state,
    hosts_block,
    host_identity,
)


async def _one(conns: Connections, host: HostAccess) -> HostFacts:
    try:
        await conns.connect(host)
    except ConnectError as exc:
        return HostFacts(host=host, reachable=False, error=exc)
    try:
        found = await collect_many(conns, host, HOST_FACTS)
    except ConnectError as exc:  # the connection dropped while reading
        return HostFacts(host=host, reachable=False, error=exc)
    name, osr, machine, py, kadm, klet, kctl, state, entries, identity = found
    return HostFacts(
        host=host,
        reachable=True,
        hostname=name,
        os=osr,
        arch=machine,
        python3=py,
        kubeadm=kadm,
        kubelet=klet,
        kubectl=kctl,
        kube=state,
        hosts_block=tuple(entries) if entries is not None else None,
        identity=identity,
    )


async def gather_host_facts(
    conns: Connections, hosts: Sequence[HostAccess]
) -> dict[HostAccess, HostFacts]:
    """Facts of every host, gathered concurrently (bounded by the pool), in ``hosts`` order.

    A host that cannot be reached (or whose connection drops) is reported with
    ``reachable=False``; any other failure (a command failing, an unreadable output) is raised
    after every host finished, the first one in ``hosts`` order.
    """
    results = await asyncio.gather(*(_one(conns, h) for h in hosts), return_exceptions=True)
    facts: dict[HostAccess, HostFacts] = {}
    for host, result in zip(hosts, results, strict=True):
        if isinstance(result, BaseException):
            raise result
        facts[host] = result
    return facts


@dataclass(frozen=True)
class ClusterFacts:
    """The cluster as a control-plane host sees it."""

    nodes: tuple[NodeInfo, ...]
    etcd_members: tuple[EtcdMember, ...]
    identity: ClusterIdentity | None = None
    addon: AppliedAddon | None = None  # the network add-on record (ConfigMap sealer-cni)


async def gather_cluster_facts(conns: Connections, master: HostAccess) -> ClusterFacts:
    """Nodes (``kubectl get nodes``), etcd members (``etcdctl member list``), sealer's
    identity ConfigMap and its network add-on record (ConfigMap sealer-cni), from ``master``.

    The four reads run at once and every one is awaited before the first failure is raised
    (a read left running would outlive the run and fail unobserved)."""
    nodes, members, identity, addon = await gather_all(
        collect(conns, master, kube_nodes),
        collect(conns, master, etcd_members),
        collect(conns, master, cluster_identity_configmap),
        collect(conns, master, applied_addon),
    )
    return ClusterFacts(tuple(nodes), tuple(members), identity, addon)
