"""Desired (Clusterfile) against live (facts): the steps that make the hosts match the file.

Pure: given the Clusterfile, the live :class:`ClusterState` and the package on the
workstation, :func:`make_plan` returns the steps with the reason each is needed and the
steps each must wait for. A host in shape gets no step, so an unchanged cluster gives an
empty plan. What this version cannot do safely is a :class:`PlanError` before anything runs.

The dependencies (an edge means "after"):

* ``distribute@h``, ``hosts@h`` and, on nodes, ``ipvs@n`` start at once on every host;
* ``init@master0`` waits for master0's distribute and hosts;
* ``join-master@m`` waits for init, its own distribute and hosts, and the previous
  ``join-master`` (etcd membership changes one at a time);
* ``join-node@n`` waits for init and its own distribute, hosts and ipvs only;
* a removed host is ``drain`` -> ``clean`` -> ``delete-node``; a removed master waits for
  every join-master and for the nodes' ``ipvs`` to stop sending it traffic.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sealer.errors import PlanError
from sealer.facts.hosts import HostsEntry
from sealer.layout import PACKAGE_DIR
from sealer.offline_package import LocalPackage
from sealer.plan.lb import desired_lb_config
from sealer.plan.state import ClusterState, HostState
from sealer.spec.model import Cluster

__all__ = [
    "Plan",
    "PlannedStep",
    "describe_entries",
    "desired_hosts_entries",
    "make_plan",
]


@dataclass(frozen=True)
class PlannedStep:
    name: str
    host: str | None
    why: str
    after: tuple[str, ...] = ()

    @property
    def id(self) -> str:
        return self.name if self.host is None else f"{self.name}@{self.host}"


@dataclass(frozen=True)
class Plan:
    steps: tuple[PlannedStep, ...]
    warnings: tuple[str, ...] = field(default_factory=tuple)

    @property
    def empty(self) -> bool:
        return not self.steps

    def hosts(self) -> set[str]:
        return {s.host for s in self.steps if s.host is not None}


def package_path(package: LocalPackage) -> str:
    return f"{PACKAGE_DIR}/{package.name}"


def desired_hosts_entries(
    cluster: Cluster, address: str, *, joined: bool
) -> tuple[HostsEntry, ...]:
    """sealer's /etc/hosts block for a host: the API domain -> the address it should use.

    master0 and joined masters use themselves; a master that has not joined yet uses master0;
    nodes use the VIP served by their local load balancer.
    """
    spec = cluster.spec
    domain = spec.network.api_server_domain
    if spec.role_of(address) == "node":
        return (HostsEntry(spec.vip, (domain,)),)
    if address == spec.master0 or joined:
        return (HostsEntry(address, (domain,)),)
    return (HostsEntry(spec.master0, (domain,)),)


def _distribute_reason(host: HostState, package: LocalPackage, version: str) -> str | None:
    if host.package_sha256 is None:
        return f"package {package.name} is not on the host"
    if host.package_sha256 != package.sha256:
        return f"package on the host differs (sha256 {host.package_sha256[:12]}...)"
    if host.kubeadm_version is None:
        return "Kubernetes binaries are not installed"
    if host.kubeadm_version != version:
        return f"installed binaries are {host.kubeadm_version}, want {version}"
    return None


def describe_entries(entries: tuple[HostsEntry, ...]) -> str:
    return ", ".join(f"{' '.join(e.names)} -> {e.address}" for e in entries) or "nothing"


def _hosts_reason(want: tuple[HostsEntry, ...], host: HostState) -> str | None:
    if host.hosts_entries is None:
        return f"no sealer block in /etc/hosts; want {describe_entries(want)}"
    if tuple(host.hosts_entries) != want:
        have = describe_entries(host.hosts_entries)
        wanted = describe_entries(want)
        return f"/etc/hosts maps {have}; want {wanted}"
    return None


def _version_checks(cluster: Cluster, live: ClusterState) -> None:
    want = cluster.spec.version
    for node in live.nodes:
        if node.version and node.version != want and node.address in cluster.spec.all_addresses:
            raise PlanError(
                f"node {node.name} ({node.address}) runs Kubernetes {node.version} and the "
                f"Clusterfile asks for {want}: changing the version of a running cluster is an "
                "upgrade, which this version of sealer does not do yet"
            )


def _fixed_at_creation(cluster: Cluster, live: ClusterState) -> list[str]:
    """Settings kubeadm fixes when the cluster is created: changing them in the file is
    refused (nothing would carry the change out). Returns warnings for what is only partly
    carried out."""
    before = live.created_with
    if before is None:
        return []
    spec = cluster.spec
    net = before.get("networking") or {}
    changes = []
    for name, old, new in (
        ("spec.network.podCIDR", net.get("podSubnet"), spec.network.pod_cidr),
        ("spec.network.serviceCIDR", net.get("serviceSubnet"), spec.network.service_cidr),
        ("spec.network.dnsDomain", net.get("dnsDomain"), spec.network.dns_domain),
        (
            "spec.network.apiServerDomain",
            str(before.get("controlPlaneEndpoint", "")).rsplit(":", 1)[0] or None,
            spec.network.api_server_domain,
        ),
    ):
        if old is not None and old != new:
            changes.append(f"{name} {old} -> {new}")
    sans = set((before.get("apiServer") or {}).get("certSANs") or [])
    if sans and spec.vip not in sans:
        changes.append(
            f"spec.vip -> {spec.vip} (the running API servers' certificates do not carry it)"
        )
    if changes:
        raise PlanError(
            "the running cluster was created with other settings, which sealer cannot change "
            "on a running cluster: " + "; ".join(changes)
        )
    added = [s for s in spec.network.cert_sans if s not in sans]
    if sans and added:
        return [
            f"certSANs {', '.join(added)} reach masters that join from now on only; add them to "
            f"the running masters with `sealer certs renew -f FILE --add-san {added[0]}`"
        ]
    return []


def _unreachable(cluster: Cluster, live: ClusterState) -> None:
    down = [h for a in cluster.spec.all_addresses if not (h := live.hosts[a]).reachable]
    if down:
        detail = "; ".join(
            h.error if h.address in h.error else f"{h.address}: {h.error}" for h in down
        )
        raise PlanError(
            f"cannot read the state of {len(down)} host(s), so no safe plan can be made: {detail}"
        )


def _removed(cluster: Cluster, live: ClusterState) -> list[tuple[str, str, bool]]:
    """(address, node name, is master) of cluster nodes the file no longer lists."""
    wanted = set(cluster.spec.all_addresses)
    removed = []
    for node in live.nodes:
        if node.address not in wanted:
            removed.append((node.address, node.name, "control-plane" in node.roles))
    if removed and live.nodes:
        oldest = min(live.nodes, key=lambda n: (n.created or "~", n.name))
        for address, name, is_master in removed:
            if is_master and name == oldest.name:
                raise PlanError(
                    f"the Clusterfile no longer lists {address} ({name}), the master the "
                    "cluster was created on (master0); removing master0 is not supported"
                )
    masters_left = [
        m for m in cluster.spec.master_addresses if m in {n.address for n in live.nodes}
    ]
    if any(r[2] for r in removed) and not masters_left:
        raise PlanError("removing every running master would destroy the cluster")
    return removed


def make_plan(cluster: Cluster, live: ClusterState, package: LocalPackage) -> Plan:
    """The steps that bring the live hosts to the Clusterfile, in dependency form."""
    spec = cluster.spec
    _unreachable(cluster, live)
    _version_checks(cluster, live)
    warnings: list[str] = _fixed_at_creation(cluster, live)
    removed = _removed(cluster, live)
    steps: list[PlannedStep] = []
    ids: set[str] = set()

    def add(name: str, host: str | None, why: str, after: Iterable[str] = ()) -> str:
        step = PlannedStep(name, host, why, tuple(a for a in after if a in ids))
        steps.append(step)
        ids.add(step.id)
        return step.id

    def prepare(address: str, joined: bool) -> list[str]:
        host = live.hosts[address]
        done: list[str] = []
        reason = _distribute_reason(host, package, spec.version)
        if reason:
            done.append(add("distribute", address, reason))
        want = desired_hosts_entries(cluster, address, joined=joined)
        reason = _hosts_reason(want, host)
        if reason:
            done.append(add("hosts", address, reason))
        return done

    initialized = live.initialized
    m0 = spec.master0
    m0_host = live.hosts[m0]
    m0_ready = prepare(m0, joined=True)
    init_id: str | None = None
    if not initialized:
        init_id = add("init", m0, "no control plane is running yet", m0_ready)
    elif m0_host.role != "control-plane":
        raise PlanError(
            f"a cluster is running but master0 {m0} is not part of it: sealer will not "
            "initialise a second cluster; put a running master first in spec.masters"
        )

    lb_ids: dict[str, str] = {}
    masters_now = spec.master_addresses
    for node in spec.node_addresses:
        want_config = desired_lb_config(cluster)
        have = live.hosts[node].lb_config
        if have != want_config or not live.hosts[node].lb_active:
            why = "load balancer not installed" if have is None else "load balancer out of date"
            if have is not None and have != want_config:
                why = f"load balancer backends out of date (masters: {', '.join(masters_now)})"
            elif have is not None:
                why = "load balancer daemon is not running"
            lb_ids[node] = add("ipvs", node, why)

    previous_join = init_id
    for master in spec.master_addresses[1:]:
        host = live.hosts[master]
        in_etcd = host.hostname in live.etcd_members
        joined = host.role == "control-plane" and live.node_at(master) is not None and in_etcd
        ready = prepare(master, joined=joined)
        if not joined:
            why = "not part of the control plane"
            if host.role == "control-plane" and not in_etcd:
                why = "a join stopped half-way: no etcd member for it"
            previous_join = add(
                "join-master",
                master,
                why,
                [*(x for x in (init_id, previous_join) if x), *ready],
            )
    for node in spec.node_addresses:
        host = live.hosts[node]
        joined = host.kubelet_configured and live.node_at(node) is not None
        ready = prepare(node, joined=joined)
        if not joined:
            after = [*(x for x in (init_id,) if x), *ready]
            if node in lb_ids:
                after.append(lb_ids[node])
            add("join-node", node, "not part of the cluster", after)

    joins = [s.id for s in steps if s.name == "join-master"]
    for address, name, is_master in removed:
        kind = "master" if is_master else "node"
        after = [*joins, *lb_ids.values()] if is_master else []
        drain = add("drain", address, f"{kind} {name} is no longer in the Clusterfile", after)
        gone = live.extra_hosts.get(address)
        if gone is not None and gone.reachable:
            cleaned = add("clean", address, f"give {name} back: kubeadm reset, files", [drain])
            add("delete-node", address, f"remove {name} from the cluster", [cleaned])
        else:
            why = gone.error if gone is not None else "not reachable"
            warnings.append(
                f"{address} ({name}) cannot be reached ({why}): it will be removed from the "
                "cluster but not cleaned; run `sealer clean` on it when it is back"
            )
            add("delete-node", address, f"remove {name} from the cluster", [drain])
    return Plan(tuple(steps), tuple(warnings))
