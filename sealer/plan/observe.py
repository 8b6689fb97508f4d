"""Read the live state of every host and of the cluster: facts -> :class:`ClusterState`.

Read-only. Hosts of the Clusterfile are read in parallel; the cluster's own view (nodes,
etcd members) comes from the first master that serves it. Hosts the cluster knows but the
file no longer lists are read too (with the cluster-wide SSH settings), so that removing
them can clean them.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from sealer.aio import gather_all
from sealer.connect import Connections, HostAccess
from sealer.errors import CommandFailed, ConnectError, SealerError
from sealer.facts.addon import AppliedAddon
from sealer.facts.backup_schedule import (
    BackupSchedule,
    backup_files,
    backup_timer_active,
    backup_timer_enabled,
)
from sealer.facts.base import Fact, FactError, collect_many
from sealer.facts.cluster import NodeInfo
from sealer.facts.gather import HostFacts, gather_cluster_facts, gather_host_facts
from sealer.facts.identity import ClusterIdentity
from sealer.facts.node_setup import care_active, care_config, cgroup_driver, ipvs_available
from sealer.facts.preflight import PREFLIGHT_FACTS, HostPreflight, preflight_of
from sealer.facts.system import file_sha256
from sealer.kube.kubeadm_config import KubeadmHostFacts
from sealer.layout import KUBEADM_CONFIG_PATH, PACKAGE_DIR
from sealer.plan.access import host_access
from sealer.plan.state import ClusterState, LiveHost, LiveNode
from sealer.spec.addresses import is_ip
from sealer.spec.model import Cluster

__all__ = ["Observation", "observe", "resolve_ipv4"]


@dataclass(frozen=True)
class Observation:
    state: ClusterState
    kube_facts: Mapping[str, KubeadmHostFacts]
    access: Mapping[str, HostAccess]


@dataclass(frozen=True)
class _Extra:
    package_sha256: str | None
    lb_config: str | None
    lb_active: bool
    cgroup: Literal["systemd", "cgroupfs"]
    ipvs: bool
    backup: BackupSchedule
    preflight: HostPreflight


async def _extra(conns: Connections, access: HostAccess, package_name: str) -> _Extra:
    facts: tuple[Fact[Any], ...] = (
        file_sha256(f"{PACKAGE_DIR}/{package_name}"),
        care_config,
        care_active,
        cgroup_driver,
        ipvs_available,
        backup_files,
        backup_timer_enabled,
        backup_timer_active,
        *PREFLIGHT_FACTS,  # in the same command: preflight costs no extra round trip
    )
    started = time.time()
    found = await collect_many(conns, access, facts)
    ended = time.time()
    sha, config, active, cgroup, ipvs, files, enabled, timer = found[:8]
    backup = BackupSchedule(files, enabled, timer)
    return _Extra(
        sha, config, active, cgroup, ipvs, backup, preflight_of(found[8:], started, ended)
    )


def _host_state(address: str, facts: HostFacts, extra: _Extra | None) -> LiveHost:
    if not facts.reachable or extra is None:
        return LiveHost(address, reachable=False, error=str(facts.error or "unreachable"))
    kube = facts.kube
    role = kube.role if kube is not None else None
    return LiveHost(
        address=address,
        reachable=True,
        hostname=facts.hostname or "",
        package_sha256=extra.package_sha256,
        kubeadm_version=facts.kubeadm,
        kubelet_configured=bool(kube and kube.kubelet_configured),
        role=role if role in ("control-plane", "worker") else None,  # type: ignore[arg-type]
        hosts_entries=facts.hosts_block,
        lb_config=extra.lb_config,
        lb_active=extra.lb_active,
        backup=extra.backup,
        cluster_state=kube.cluster_state if kube is not None else (),
        etcd_data=bool(kube and kube.etcd_data),
        init_started=bool(kube and kube.init_started),
        identity=facts.identity,
        os=facts.os,
        arch=facts.arch.name if facts.arch is not None else None,
        preflight=extra.preflight,
    )


def _why_unread(error: SealerError) -> str:
    """One line on why a master's cluster facts could not be read."""
    if isinstance(error, CommandFailed):
        lines = (error.stderr or error.stdout).strip().splitlines()
        return f"`{error.argv[0]}` exited with status {error.exit_status}: " + (
            lines[-1][:200] if lines else "no output"
        )
    return str(error)[:300]


def _live_node(info: NodeInfo) -> LiveNode:
    return LiveNode(
        name=info.name,
        address=info.address("InternalIP") or "",
        roles=tuple("control-plane" if r in ("master", "control-plane") else r for r in info.roles),
        version=info.kubelet_version,
        ready=bool(info.ready),
        created=info.created,
        unschedulable=info.unschedulable,
        upgrading_to=info.upgrading_to,
    )


async def _read_hosts(
    conns: Connections, accesses: Sequence[HostAccess], package_name: str
) -> dict[str, tuple[LiveHost, _Extra | None]]:
    facts = await gather_host_facts(conns, accesses)

    async def extra(access: HostAccess) -> _Extra | None:
        if not facts[access].reachable:
            return None
        try:
            return await _extra(conns, access, package_name)
        except ConnectError:
            return None

    extras = await gather_all(*(extra(a) for a in accesses))
    return {
        a.address: (_host_state(a.address, facts[a], x), x)
        for a, x in zip(accesses, extras, strict=True)
    }


def cluster_configuration_of(kept: bytes | None) -> dict[str, Any] | None:
    """The ClusterConfiguration document of a kept kubeadm.yaml (None when absent/unreadable:
    a cluster sealer did not create, or a file edited by hand, is then not compared)."""
    if kept is None:
        return None
    try:
        documents = list(YAML(typ="safe").load_all(kept.decode("utf-8")))
    except (YAMLError, UnicodeDecodeError):
        return None
    for document in documents:
        if isinstance(document, dict) and document.get("kind") == "ClusterConfiguration":
            return document
    return None


async def resolve_ipv4(address: str) -> str | None:
    """The IPv4 address a DNS-named host has from this workstation (what sealer connects to),
    for the node IP kubeadm advertises; None for an IP address or a name that does not
    resolve (the kubeadm configuration then says what is missing)."""
    if is_ip(address):
        return None
    try:
        found = await asyncio.get_running_loop().getaddrinfo(address, None, family=socket.AF_INET)
    except OSError:
        return None
    return str(found[0][4][0]) if found else None


def nodes_as_named(
    nodes: Sequence[LiveNode], resolved: Mapping[str, str | None]
) -> tuple[LiveNode, ...]:
    """``nodes`` with the file's entry as the address of a host the file names by DNS name
    (``resolved``: entry -> the IPv4 address it resolved to, None for an IP entry). A Node's
    address is its InternalIP, and the planner finds a host's Node by the file's entry."""
    by_ip = {ip: entry for entry, ip in resolved.items() if ip}
    return tuple(replace(n, address=by_ip.get(n.address, n.address)) for n in nodes)


def _kube_facts(
    cluster: Cluster, state: LiveHost, extra: _Extra | None, ip: str | None
) -> KubeadmHostFacts:
    wanted = cluster.spec.load_balancer.backend
    ipvs = extra is not None and extra.ipvs
    backend: Literal["ipvs", "nftables"] = (
        wanted if wanted != "auto" else ("ipvs" if ipvs else "nftables")
    )
    cgroup: Literal["systemd", "cgroupfs"] = (
        "systemd" if extra is None or extra.cgroup == "systemd" else "cgroupfs"
    )
    return KubeadmHostFacts(
        hostname=state.hostname or None, ip=ip, cgroup_driver=cgroup, lb_backend=backend
    )


async def observe(
    conns: Connections, cluster: Cluster, package_name: str, *, connect_timeout: float = 10.0
) -> Observation:
    spec = cluster.spec

    def reach(address: str) -> HostAccess:
        return host_access(cluster, address, connect_timeout=connect_timeout)

    access = {address: reach(address) for address in spec.all_addresses}
    read = await _read_hosts(conns, list(access.values()), package_name)
    hosts = {address: pair[0] for address, pair in read.items()}
    api_host: str | None = None
    nodes: tuple[LiveNode, ...] = ()
    members: tuple[str, ...] = ()
    peer_urls: tuple[str, ...] = ()
    identity: ClusterIdentity | None = None
    unread: dict[str, str] = {}
    identity_in_cluster: bool | None = None
    addon: AppliedAddon | None = None
    for master in spec.master_addresses:
        host = hosts[master]
        if not host.reachable or host.role != "control-plane":
            continue
        try:
            cluster_facts = await gather_cluster_facts(conns, access[master])
        except (CommandFailed, ConnectError, FactError) as exc:
            unread[master] = _why_unread(exc)  # its API server or etcd does not answer
            continue
        api_host = master
        nodes = tuple(_live_node(n) for n in cluster_facts.nodes)
        members = tuple(m.name for m in cluster_facts.etcd_members if m.name)
        peer_urls = tuple(u for m in cluster_facts.etcd_members for u in m.peer_urls)
        identity = cluster_facts.identity
        identity_in_cluster = identity is not None
        addon = cluster_facts.addon
        break
    if identity is None:
        # no ConfigMap (or no answer): the identity the masters recorded, when they agree
        recorded = {h.identity for m in spec.master_addresses if (h := hosts[m]).identity}
        identity = recorded.pop() if len(recorded) == 1 else None
    ips = await gather_all(*(resolve_ipv4(a) for a in read))
    resolved = {a: ip for a, ip in zip(read, ips, strict=True) if ip}
    nodes = nodes_as_named(nodes, resolved)
    wanted = set(spec.all_addresses)
    gone = [n.address for n in nodes if n.address and n.address not in wanted]
    for address in gone:
        access[address] = reach(address)
    extra_read = await _read_hosts(conns, [access[a] for a in gone], package_name) if gone else {}
    extra_hosts = {address: pair[0] for address, pair in extra_read.items()}
    kube_facts = {
        a: _kube_facts(cluster, state, extra, ip)
        for (a, (state, extra)), ip in zip(read.items(), ips, strict=True)
    }
    created_with = None
    if api_host is not None and hosts[spec.master0].role == "control-plane":
        kept = await conns.read_file(access[spec.master0], KUBEADM_CONFIG_PATH)
        created_with = cluster_configuration_of(kept)
    state = ClusterState(
        hosts=hosts,
        created_with=created_with,
        initialized=api_host is not None,
        api_host=api_host,
        nodes=nodes,
        etcd_members=members,
        etcd_peer_urls=peer_urls,
        extra_hosts=extra_hosts,
        unread=unread,
        identity=identity,
        identity_in_cluster=identity_in_cluster,
        resolved=resolved,
        addon=addon,
    )
    return Observation(state, kube_facts, access)
