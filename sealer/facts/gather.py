"""Gather the standard facts of many hosts at once, through one :class:`Connections`."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from sealer.connect import Connections, HostAccess
from sealer.errors import ConnectError
from sealer.facts.base import collect
from sealer.facts.cluster import EtcdMember, NodeInfo, etcd_members, kube_nodes
from sealer.facts.hosts import HostsEntry, hosts_block
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


async def _one(conns: Connections, host: HostAccess) -> HostFacts:
    try:
        await conns.connect(host)
    except ConnectError as exc:
        return HostFacts(host=host, reachable=False, error=exc)
    try:
        async with asyncio.TaskGroup() as group:
            name = group.create_task(collect(conns, host, hostname))
            osr = group.create_task(collect(conns, host, os_release))
            machine = group.create_task(collect(conns, host, arch))
            py = group.create_task(collect(conns, host, python3))
            kadm = group.create_task(collect(conns, host, kubeadm_version))
            klet = group.create_task(collect(conns, host, kubelet_version))
            kctl = group.create_task(collect(conns, host, kubectl_version))
            state = group.create_task(collect(conns, host, kube_state))
            block = group.create_task(collect(conns, host, hosts_block))
    except ExceptionGroup as group_error:
        # The connection dropped -> unreachable; any other error is the first one, unwrapped.
        errors = _flatten(group_error)
        lost = [e for e in errors if isinstance(e, ConnectError)]
        if lost:
            return HostFacts(host=host, reachable=False, error=lost[0])
        raise errors[0] from None
    entries = block.result()
    return HostFacts(
        host=host,
        reachable=True,
        hostname=name.result(),
        os=osr.result(),
        arch=machine.result(),
        python3=py.result(),
        kubeadm=kadm.result(),
        kubelet=klet.result(),
        kubectl=kctl.result(),
        kube=state.result(),
        hosts_block=tuple(entries) if entries is not None else None,
    )


def _flatten(group: BaseExceptionGroup[Exception]) -> list[Exception]:
    found: list[Exception] = []
    for exc in group.exceptions:
        if isinstance(exc, BaseExceptionGroup):
            found.extend(_flatten(exc))
        else:
            found.append(exc)
    return found


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


async def gather_cluster_facts(conns: Connections, master: HostAccess) -> ClusterFacts:
    """Nodes (``kubectl get nodes``) and etcd members (``etcdctl member list``) from ``master``."""
    nodes, members = await asyncio.gather(
        collect(conns, master, kube_nodes), collect(conns, master, etcd_members)
    )
    return ClusterFacts(tuple(nodes), tuple(members))
