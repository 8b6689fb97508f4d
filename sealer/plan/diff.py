"""Desired (Clusterfile) against live (facts): the steps that make the hosts match the file.

Pure: given the Clusterfile, the live :class:`ClusterState` and the package on the
workstation, :func:`make_plan` returns the steps with the reason each is needed, the steps
each must wait for and what was decided for it (its payload, :mod:`sealer.plan.payloads`: the
/etc/hosts entries, the load balancer's backends, the node to drain...; the step carries that
out and decides nothing again). A host in shape gets no step, so an unchanged cluster gives an
empty plan. What this version cannot do safely is a :class:`PlanError` before anything runs.

The dependencies (an edge means "after"):

* ``prepare@h`` (only on a host where preflight found swap on, a kernel module missing or a
  sysctl wrong: :mod:`sealer.plan.preflight`) comes first; ``distribute@h`` waits for it;
* ``distribute@h``, ``hosts@h`` and, on nodes, ``ipvs@n`` start at once on every host;
* ``init@master0`` waits for master0's distribute and hosts;
* ``join-master@m`` waits for init, its own distribute and hosts, and the previous
  ``join-master`` (etcd membership changes one at a time);
* ``join-node@n`` waits for init and its own distribute, hosts and ipvs only;
* a removed host is ``drain`` -> ``clean`` -> ``delete-node``; a removed master waits for
  every join-master and for the nodes' ``ipvs`` to stop sending it traffic;
* a change of ``spec.version`` on a running cluster is an upgrade, planned alone by
  :mod:`sealer.plan.upgrade`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from sealer.errors import PlanError
from sealer.etcd_backup.render import wanted_digests
from sealer.facts.addon import ADDON_CONFIGMAP, ADDON_NAMESPACE
from sealer.facts.hosts import HostsEntry
from sealer.facts.identity import ClusterIdentity
from sealer.layout import (
    BACKUP_PROGRAM_PATH,
    BACKUP_SERVICE_PATH,
    BACKUP_TIMER_PATH,
    PACKAGE_DIR,
)
from sealer.offline_package import LocalPackage
from sealer.plan.kinds import StepKind
from sealer.plan.lb import desired_lb_config
from sealer.plan.payloads import (
    BackupSchedulePayload,
    CleanPayload,
    CniPayload,
    DeleteNodePayload,
    DistributePayload,
    DrainPayload,
    HostsPayload,
    IdentityPayload,
    InitPayload,
    InstallPayload,
    IpvsPayload,
    JoinMasterPayload,
    JoinNodePayload,
    Payload,
    PreparePayload,
    RemoveMemberPayload,
    SnapshotPayload,
)
from sealer.plan.preflight import Preflight, run_preflight
from sealer.plan.relay import Source, relay_sources, uses_relay
from sealer.plan.state import ClusterState, LiveHost
from sealer.plan.upgrade import plan_upgrade, upgrade_needed
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
    """One step of the plan: its payload (what the planner decided, which names the kind),
    the host it changes, why it is needed and the ids of the steps it waits for."""

    payload: Payload
    host: str
    why: str
    after: tuple[str, ...] = ()

    @property
    def kind(self) -> StepKind:
        return self.payload.kind

    @property
    def name(self) -> str:
        return self.kind.value

    @property
    def id(self) -> str:
        return f"{self.name}@{self.host}"

    def to_dict(self) -> dict[str, Any]:
        """The step as ``sealer diff --output json`` shows it."""
        return {
            "name": self.name,
            "host": self.host,
            "why": self.why,
            "after": list(self.after),
            "flags": list(self.payload.flags),
            "id": self.id,
        }


@dataclass(frozen=True)
class Plan:
    steps: tuple[PlannedStep, ...]
    warnings: tuple[str, ...] = field(default_factory=tuple)
    #: Who the cluster is: the running cluster's identity, or the one init will record.
    identity: ClusterIdentity | None = None
    #: What the preflight checks found (apply refuses on its errors before any change).
    preflight: Preflight = field(default_factory=Preflight)

    @property
    def empty(self) -> bool:
        return not self.steps

    def hosts(self) -> set[str]:
        return {s.host for s in self.steps}


def package_path(package: LocalPackage) -> str:
    return f"{PACKAGE_DIR}/{package.name}"


def desired_hosts_entries(
    cluster: Cluster, address: str, *, joined: bool, resolved: Mapping[str, str] | None = None
) -> tuple[HostsEntry, ...]:
    """sealer's /etc/hosts block for a host: the API domain -> the address it should use.

    master0 and joined masters use themselves; a master that has not joined yet uses master0;
    nodes use the VIP served by their local load balancer. ``resolved`` has the IP address of
    each host the file names by DNS name (/etc/hosts maps names to addresses, not to names).
    """
    ips = resolved or {}
    spec = cluster.spec
    domain = spec.network.api_server_domain
    if spec.role_of(address) == "node":
        return (HostsEntry(spec.vip, (domain,)),)
    if address == spec.master0 or joined:
        return (HostsEntry(ips.get(address, address), (domain,)),)
    return (HostsEntry(ips.get(spec.master0, spec.master0), (domain,)),)


def _distribute_reason(host: LiveHost, package: LocalPackage, version: str) -> str | None:
    if host.package_sha256 is None:
        return f"package {package.name} is not on the host"
    if host.package_sha256 != package.sha256:
        return f"package on the host differs (sha256 {host.package_sha256[:12]}...)"
    if host.kubeadm_version is None:
        return "Kubernetes binaries are not installed"
    if host.kubeadm_version != version:
        return f"installed binaries are {host.kubeadm_version}, want {version}"
    return None


def _package_sources(
    cluster: Cluster, live: ClusterState, package: LocalPackage
) -> Mapping[str, Source]:
    """Where each host that needs a copy of the package gets it (sealer/plan/relay.py)."""
    addresses = cluster.spec.all_addresses
    holders = [a for a in addresses if live.hosts[a].package_sha256 == package.sha256]
    needing = [
        a
        for a in addresses
        if _distribute_reason(live.hosts[a], package, cluster.spec.version) is not None
    ]
    copies = sum(1 for a in needing if a not in holders)
    settings = cluster.spec.package
    relay = uses_relay(settings.distribution, copies)
    return relay_sources(needing, holders, fanout=settings.fanout, relay=relay)


def _copy_from(source: str | None) -> str:
    return "copy from the workstation" if source is None else f"copy from {source} (relay)"


def describe_entries(entries: tuple[HostsEntry, ...]) -> str:
    return ", ".join(f"{' '.join(e.names)} -> {e.address}" for e in entries) or "nothing"


def _hosts_reason(want: tuple[HostsEntry, ...], host: LiveHost) -> str | None:
    if host.hosts_entries is None:
        return f"no sealer block in /etc/hosts; want {describe_entries(want)}"
    if tuple(host.hosts_entries) != want:
        have = describe_entries(host.hosts_entries)
        wanted = describe_entries(want)
        return f"/etc/hosts maps {have}; want {wanted}"
    return None


def _addon_checks(cluster: Cluster, live: ClusterState) -> None:
    """A running cluster keeps the network add-on it was given: replacing one with another
    (or with none) needs the nodes' networking torn down, which sealer does not do."""
    applied = live.addon
    want = cluster.spec.network.cni_type
    if applied is not None and applied.type != want:
        raise PlanError(
            f"spec.network.cni is {want}, but the cluster runs the {applied.type} network "
            f"add-on (recorded in ConfigMap {ADDON_NAMESPACE}/{ADDON_CONFIGMAP}): sealer does "
            "not change a running cluster's network add-on; put spec.network.cni back to "
            f"{applied.type}, or build a new cluster for the other one"
        )


def _addon_reason(live: ClusterState, package: LocalPackage) -> str | None:
    """Why the add-on must be applied, None when what is applied is what the package has."""
    addon = package.addon
    if addon is None:
        return None
    if live.addon is None:
        return f"network add-on {addon.type} not applied yet (kube/{addon.manifest})"
    if live.addon.sha256 != addon.sha256:
        return (
            f"network add-on {addon.type}: the package's manifest changed (kube/"
            f"{addon.manifest}, sha256 {addon.sha256[:12]}; applied {live.addon.sha256[:12]})"
        )
    return None


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


def _describe_state(files: tuple[str, ...]) -> str:
    names = {
        "/etc/kubernetes/manifests/kube-apiserver.yaml": "the kube-apiserver manifest",
        "/etc/kubernetes/manifests/etcd.yaml": "the etcd manifest",
        "/var/lib/etcd/member": "etcd data",
        "/etc/kubernetes/admin.conf": "admin.conf",
        "/var/lib/sealer/cluster.json": "sealer's identity file",
    }
    return ", ".join(names.get(f, f) for f in files)


def _grouped(by_host: dict[str, str], joiner: str) -> str:
    """Hosts that share a text named together: ``a, b: same text; c: other text``."""
    texts: dict[str, list[str]] = {}
    for host, text in by_host.items():
        texts.setdefault(text, []).append(host)
    return "; ".join(f"{', '.join(hosts)}{joiner}{text}" for text, hosts in texts.items())


def _cluster_state_known(cluster: Cluster, live: ClusterState) -> bool:
    """Refuse to plan when a cluster exists but none of its masters answers for it.

    A master holding cluster state (static pod manifests, etcd data, admin.conf, sealer's
    identity) means the cluster exists, whether or not its API answers right now; planning
    "no cluster" then would re-initialise over its data. Returns True when the only state is
    sealer's own init on master0 that stopped half-way (it may be reset and done again)."""
    if live.initialized:
        return False
    spec = cluster.spec
    holding = [m for m in spec.master_addresses if live.hosts[m].cluster_state]
    if not holding:
        joined = {
            a: "is a node of a cluster"
            + (f" ({h.identity.describe()})" if h.identity is not None else "")
            for a in spec.node_addresses
            if (h := live.hosts[a]).kubelet_configured or h.identity is not None
        }
        if joined:
            raise PlanError(
                "no master of the Clusterfile holds a cluster, but "
                + _grouped(joined, " ")
                + ": sealer will not create a new cluster and take those nodes from the one "
                "they belong to. List that cluster's masters in spec.masters, or give the "
                "nodes back first with `sealer clean`"
            )
        return False
    m0 = live.hosts[spec.master0]
    if holding == [spec.master0] and m0.init_started:
        return True
    held = _grouped(
        {
            m: _describe_state(h.cluster_state)
            + (f" of cluster {h.identity.describe()}" if h.identity is not None else "")
            for m in holding
            if (h := live.hosts[m])
        },
        " hold ",
    )
    unanswered = dict(live.unread)
    for m in holding:
        unanswered.setdefault(m, "no kube-apiserver manifest, not asked")
    asked = _grouped(unanswered, ": ")
    raise PlanError(
        "a cluster exists on these masters, but none of them answers for it, so sealer "
        f"cannot tell its state and changes nothing: {held}. What did not answer: {asked}. "
        "Bring the control plane back (start the kubelet on the masters, check etcd and the "
        "kube-apiserver), then run sealer again; sealer never initialises a new cluster over "
        "an existing one (to start afresh on purpose, `sealer clean` the hosts first)"
    )


def _identity_checks(cluster: Cluster, live: ClusterState) -> None:
    """Refuse hosts installed for another cluster (another name, or another uid)."""
    name = cluster.metadata.name
    known = live.identity
    if known is not None and known.name != name:
        raise PlanError(
            f"the running cluster is {known.describe()}, but the Clusterfile names it {name!r}: "
            "sealer will not take over another cluster (a renamed cluster keeps its name: put "
            f"metadata.name: {known.name} back)"
        )
    for address in cluster.spec.all_addresses:
        found = live.hosts[address].identity
        if found is None:
            continue
        if found.name != name or (known is not None and found.uid != known.uid):
            this = known.describe() if known is not None else repr(name)
            raise PlanError(
                f"{address} belongs to another cluster, {found.describe()}, not to {this}: "
                "sealer will not take over a host of another cluster. Remove it from this "
                "Clusterfile, or give it back first with `sealer clean --force` and a "
                "Clusterfile that lists it"
            )


def _removed(cluster: Cluster, live: ClusterState) -> list[tuple[str, str, bool]]:
    """(address, node name, is master) of cluster nodes the file no longer lists."""
    wanted = set(cluster.spec.all_addresses)
    removed = []
    for node in live.nodes:
        if node.address not in wanted:
            removed.append((node.address, node.name, "control-plane" in node.roles))
    masters_left = [
        m for m in cluster.spec.master_addresses if m in {n.address for n in live.nodes}
    ]
    if any(r[2] for r in removed) and not masters_left:
        raise PlanError("removing every running master would destroy the cluster")
    return removed


#: A master's steps its scheduled backup waits for (the etcd member and its certificates).
_BACKUP_SCHEDULE_AFTER = (
    StepKind.PREPARE,
    StepKind.DISTRIBUTE,
    StepKind.INSTALL,
    StepKind.INIT,
    StepKind.JOIN_MASTER,
)
_BACKUP_FILE_NAMES = {
    BACKUP_PROGRAM_PATH: "program",
    BACKUP_SERVICE_PATH: "service",
    BACKUP_TIMER_PATH: "timer",
}


def _backup_schedule(cluster: Cluster, host: LiveHost) -> tuple[BackupSchedulePayload, str] | None:
    """``spec.backup`` on one master: what to do and why, or None when it is in shape."""
    want = cluster.spec.backup
    have = host.backup
    if want is None:
        if have is None or not have.installed:
            return None
        return (
            BackupSchedulePayload(None),
            "spec.backup is absent: the scheduled-snapshot timer, service and program are "
            "removed (the snapshots stay)",
        )
    payload = BackupSchedulePayload(want.schedule, want.keep, want.dir)
    what = f"spec.backup: {want.schedule}, newest {want.keep} kept in {want.dir}"
    digests = wanted_digests(want.schedule, want.dir, want.keep)
    files = have.files if have is not None else {}
    if not files:
        return payload, f"scheduled etcd snapshots not installed ({what})"
    stale = [name for path, name in _BACKUP_FILE_NAMES.items() if files.get(path) != digests[path]]
    if stale:
        return payload, f"scheduled etcd snapshots: {', '.join(stale)} out of date ({what})"
    if have is None or not have.enabled or not have.active:
        return payload, "the scheduled-snapshot timer is not enabled and active"
    return None


def make_plan(
    cluster: Cluster,
    live: ClusterState,
    package: LocalPackage,
    fresh_identity: ClusterIdentity | None = None,
    ignore_preflight: Iterable[str] = (),
    *,
    skip_drain: bool = False,
) -> Plan:
    """The steps that bring the live hosts to the Clusterfile, in dependency form.

    ``fresh_identity`` is the identity to record when the cluster has none yet (a new
    cluster, or one created before sealer recorded identities). ``ignore_preflight``: checks
    skipped besides ``spec.preflight.ignore``. A change of ``spec.version`` on a running
    cluster is an upgrade, planned alone (:mod:`sealer.plan.upgrade`; ``skip_drain``: cordon
    without draining)."""
    spec = cluster.spec
    _unreachable(cluster, live)
    checked = run_preflight(cluster, live, package, ignore_preflight)
    half_done_init = _cluster_state_known(cluster, live)
    _identity_checks(cluster, live)
    identity = live.identity or fresh_identity or ClusterIdentity.new(cluster.metadata.name)
    _addon_checks(cluster, live)
    warnings: list[str] = _fixed_at_creation(cluster, live)
    steps: list[PlannedStep] = []
    ids: set[str] = set()

    def add(payload: Payload, host: str, why: str, after: Iterable[str] = ()) -> str:
        needs = tuple(dict.fromkeys(a for a in after if a in ids))
        step = PlannedStep(payload, host, why, needs)
        steps.append(step)
        ids.add(step.id)
        return step.id

    if upgrade_needed(cluster, live):
        plan_upgrade(cluster, live, add, skip_drain=skip_drain)
        return Plan(tuple(steps), tuple(warnings), identity, checked)
    removed = _removed(cluster, live)
    sources = _package_sources(cluster, live, package)

    def prepare(address: str, joined: bool) -> list[str]:
        host = live.hosts[address]
        done: list[str] = []
        fix = checked.preparations.get(address)
        if fix is not None:
            done.append(
                add(PreparePayload(fix.swap_off, fix.modules, fix.sysctls), address, fix.reason())
            )
        reason = _distribute_reason(host, package, spec.version)
        if reason:
            copy: list[str] = []
            if host.package_sha256 != package.sha256:
                source = sources.get(address)
                if source is None or source.host is None:
                    payload = DistributePayload()
                    after: tuple[str, ...] = ()
                else:
                    payload = DistributePayload(source.host)
                    after = (f"{StepKind.DISTRIBUTE}@{source.host}",) if source.copying else ()
                why = f"{reason}; {_copy_from(payload.source)}"
                copy.append(add(payload, address, why, [*done, *after]))
            install = InstallPayload(new_copy=bool(copy))
            why = "the package is copied in this run" if copy else reason
            done.append(add(install, address, why, [*done, *copy]))
        want = desired_hosts_entries(cluster, address, joined=joined, resolved=live.resolved)
        reason = _hosts_reason(want, host)
        if reason:
            done.append(add(HostsPayload(want), address, reason))
        return done

    initialized = live.initialized
    m0 = spec.master0
    m0_host = live.hosts[m0]
    m0_ready = prepare(m0, joined=True)
    init_id: str | None = None
    if not initialized:
        if half_done_init:
            init_id = add(
                InitPayload(reset_half_done=True),
                m0,
                "sealer's init stopped half-way (no cluster was recorded): reset, init again",
                m0_ready,
            )
        else:
            init_id = add(InitPayload(), m0, "no control plane is running yet", m0_ready)
    elif m0_host.role != "control-plane":
        raise PlanError(
            f"a cluster is running but master0 {m0} is not part of it: sealer will not "
            "initialise a second cluster; put a running master first in spec.masters"
        )

    cni = _addon_reason(live, package)
    if cni is not None and package.addon is not None:
        addon = package.addon
        add(
            CniPayload(addon.type, addon.manifest, addon.sha256),
            live.api_host or m0,
            cni,
            [x for x in (init_id,) if x] or m0_ready,
        )

    lb_ids: dict[str, str] = {}
    masters_now = spec.master_addresses
    # only nodes run the load balancer: without nodes its settings (IPv4 masters) do not apply
    want_config = desired_lb_config(cluster) if spec.node_addresses else ""
    lb_payload = IpvsPayload(want_config, tuple(masters_now))
    for node in spec.node_addresses:
        have = live.hosts[node].lb_config
        if have != want_config or not live.hosts[node].lb_active:
            why = "load balancer not installed" if have is None else "load balancer out of date"
            if have is not None and have != want_config:
                why = f"load balancer backends out of date (masters: {', '.join(masters_now)})"
            elif have is not None:
                why = "load balancer daemon is not running"
            lb_ids[node] = add(lb_payload, node, why)
        elif init_id is not None:
            # left by a run that stopped before init: it trusts a CA that init replaces
            why = "the cluster's CA is created by init: the load balancer's copy is rewritten"
            lb_ids[node] = add(lb_payload, node, why)

    configmap = live.initialized and live.identity_in_cluster is False

    def record_identity(address: str, after: Iterable[str] = ()) -> None:
        """A host that is part of the cluster but has no identity file (installed before
        sealer recorded identities), and the cluster's ConfigMap when it is missing."""
        nonlocal configmap
        in_cluster = configmap and address == live.api_host
        if live.hosts[address].identity is None or in_cluster:
            what = "the cluster's identity" + (" (host and cluster)" if in_cluster else "")
            payload = IdentityPayload(in_cluster=in_cluster)
            add(payload, address, f"record {what}: {identity.describe()}", after)
            configmap = configmap and not in_cluster

    if initialized:
        record_identity(m0, m0_ready)
    previous_join = init_id
    for master in spec.master_addresses[1:]:
        host = live.hosts[master]
        in_etcd = live.etcd_member(host.hostname, master)
        joined = host.role == "control-plane" and live.node_at(master) is not None and in_etcd
        ready = prepare(master, joined=joined)
        if not joined:
            why = "not part of the control plane"
            remove_member = False
            if host.role == "control-plane" and not in_etcd:
                why = "a join stopped half-way: no etcd member for it"
            elif in_etcd:
                why = (
                    "a join stopped half-way: its etcd member is listed; it is removed "
                    "(quorum checked) before the host is reset and joins again"
                )
                remove_member = True
            elif host.cluster_state:
                why = f"a join stopped half-way ({_describe_state(host.cluster_state)} left)"
            own = desired_hosts_entries(cluster, master, joined=True, resolved=live.resolved)
            previous_join = add(
                JoinMasterPayload(own, remove_etcd_member=remove_member),
                master,
                why,
                [*(x for x in (init_id, previous_join) if x), *ready],
            )
        else:
            record_identity(master, ready)
    for node in spec.node_addresses:
        host = live.hosts[node]
        joined = host.kubelet_configured and live.node_at(node) is not None
        ready = prepare(node, joined=joined)
        if not joined:
            after = [*(x for x in (init_id,) if x), *ready]
            if node in lb_ids:
                after.append(lb_ids[node])
            add(JoinNodePayload(), node, "not part of the cluster", after)
        else:
            record_identity(node, ready)
    if configmap and live.api_host is not None:
        record_identity(live.api_host)

    for master in spec.master_addresses:
        scheduled = _backup_schedule(cluster, live.hosts[master])
        if scheduled is not None:
            before = [s.id for s in steps if s.host == master and s.kind in _BACKUP_SCHEDULE_AFTER]
            add(scheduled[0], master, scheduled[1], before)

    joins = [s.id for s in steps if s.kind is StepKind.JOIN_MASTER]
    member_resets = [
        s.id
        for s in steps
        if isinstance(s.payload, JoinMasterPayload) and s.payload.remove_etcd_member
    ]
    snapshot: str | None = None
    if (member_resets or any(r[2] for r in removed)) and live.api_host is not None:
        snapshot = add(
            SnapshotPayload(),
            live.api_host,
            "etcd's data is saved (and copied to this workstation) before a master is removed "
            "or reset",
        )
        for step_id in member_resets:  # those joins reset a member: after the snapshot
            index = next(i for i, x in enumerate(steps) if x.id == step_id)
            steps[index] = replace(steps[index], after=(*steps[index].after, snapshot))
    previous_master: str | None = None
    for address, name, is_master in removed:
        kind = "master" if is_master else "node"
        first: list[str] = []
        if is_master:
            # one master at a time, after the joins, with every load balancer already
            # rewritten without it, and after the snapshot
            first = [*joins, *lb_ids.values(), *(x for x in (snapshot, previous_master) if x)]
        drain = add(
            DrainPayload(name), address, f"{kind} {name} is no longer in the Clusterfile", first
        )
        gone = live.extra_hosts.get(address)
        if gone is not None and gone.reachable:
            why = f"give {name} back: kubeadm reset, files"
            if is_master:
                why = f"give {name} back: etcd checked healthy, its member removed, reset, files"
            cleaned = add(CleanPayload(remove_etcd_member=is_master), address, why, [drain])
            last = add(
                DeleteNodePayload(name), address, f"remove {name} from the cluster", [cleaned]
            )
        else:
            why = gone.error if gone is not None else "not reachable"
            warnings.append(
                f"{address} ({name}) cannot be reached ({why}): it will be removed from the "
                "cluster but not cleaned; run `sealer clean` on it when it is back"
            )
            before_delete = drain
            if is_master:
                before_delete = add(
                    RemoveMemberPayload(),
                    address,
                    f"remove {name}'s etcd member (by its peer URL) through a healthy master",
                    [drain],
                )
            last = add(
                DeleteNodePayload(name),
                address,
                f"remove {name} from the cluster",
                [before_delete],
            )
        if is_master:
            previous_master = last
    return Plan(tuple(steps), tuple(warnings), identity, checked)
