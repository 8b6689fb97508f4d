"""``sealer restore``: put an archive's etcd snapshot back on every master.

For a cluster that lost its etcd data or its control plane, with hosts that answer SSH. The
order, on every master at once where etcd allows it:

1. stop the control plane: the four static pod manifests move to
   ``/etc/kubernetes/tmp/sealer-restore-<stamp>/manifests`` and sealer waits until the kubelet
   stopped their pods (their ports closed);
2. the old etcd data, if any, moves aside to ``/var/lib/etcd/member.before-restore-<stamp>``
   (never deleted; a rename on the same file system, which works when /var/lib/etcd is a
   dedicated disk and needs no space; etcd only warns about the extra directory);
3. the snapshot is copied to the master (sha256 checked) and restored with ``etcdutl``
   (etcd 3.5+) or ``etcdctl`` (3.4) ``snapshot restore``: the same member names and peer URLs,
   a new cluster token, into a fresh ``/var/lib/etcd/restore-<stamp>`` whose ``member`` then
   moves to ``/var/lib/etcd/member``;
4. the archive's CA files are put back where they are missing;
5. the manifests move back, and sealer waits for every master's ``/readyz`` and etcd health,
   for etcd to list one member per master, and for every Node to be Ready, except the nodes
   whose kubelet client certificate does not verify against the restored cluster CA: those
   are re-joined (``sealer.cli.restore_run``: the join-node step with ``rejoin``), then
   waited for too.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.exceptions import InvalidSignature

from sealer.aio import gather_all, poll_until
from sealer.connect import HostAccess, Remote
from sealer.dr import ArchiveError
from sealer.dr.archive import Archive, EtcdMemberRecord
from sealer.dr.etcd import initial_cluster, restore_argv, restored_members
from sealer.errors import PlanError, SealerError, StepError
from sealer.facts import NodeInfo, collect, etcd_members, hostname, kube_nodes
from sealer.facts.health import api_ready, etcd_healthy
from sealer.facts.identity import ClusterIdentity, host_identity
from sealer.facts.static_pods import STATIC_PODS, listening_ports
from sealer.kube.pki import CERT_MODE, KEY_MODE, ClusterCA
from sealer.layout import (
    CERTS_BACKUP_ROOT,
    ETCD_DATA,
    KUBELET_CLIENT_CERT_PATH,
    KUBERNETES_DIR,
    STATE_DIR,
)
from sealer.plan.access import host_access
from sealer.spec.model import Cluster

__all__ = [
    "MasterView",
    "RestoreOptions",
    "RestorePlan",
    "RestoreReport",
    "all_fresh",
    "archive_ca",
    "archive_identity",
    "check_archive",
    "fresh_lines",
    "masters_only",
    "plan_restore",
    "read_masters",
    "run_restore",
    "stale_kubelets",
    "wait_nodes_ready",
]

ETCD_DIR = ETCD_DATA.rsplit("/", 1)[0]  # /var/lib/etcd
RESTORE_WORK_DIR = f"{STATE_DIR}/restore"
RESTORE_TIMEOUT = 900.0
_STATIC_PORTS = frozenset(port for pod in STATIC_PODS for port in pod.ports)


@dataclass(frozen=True)
class RestoreOptions:
    stop_timeout: float = 180.0
    ready_timeout: float = 300.0
    nodes_timeout: float = 300.0
    poll_interval: float = 2.0


@dataclass(frozen=True)
class MasterView:
    """What a master holds before the restore (read only)."""

    address: str
    access: HostAccess = field(repr=False)
    hostname: str
    identity: ClusterIdentity | None
    manifests: tuple[str, ...]  # static pods whose manifest is in place
    etcd_data: bool
    tool: str  # etcdutl or etcdctl
    missing_pki: tuple[str, ...]


@dataclass(frozen=True)
class RestorePlan:
    archive: Archive
    masters: tuple[MasterView, ...]
    members: dict[str, EtcdMemberRecord]
    token: str
    stamp: str

    def staging(self) -> str:
        return f"{CERTS_BACKUP_ROOT}/sealer-restore-{self.stamp}/manifests"

    def aside(self) -> str:
        return f"{ETCD_DATA}.before-restore-{self.stamp}"

    def lines(self) -> list[str]:
        a = self.archive
        out = [
            f"restore cluster {a.cluster} (uid {a.uid}) from the backup of {a.created}: etcd "
            f"revision {a.etcd.revision}, {a.etcd.keys} keys, taken on {a.etcd.taken_on}",
        ]
        for view in self.masters:
            member = self.members[view.address]
            steps = [f"stop {len(view.manifests)} control-plane pod(s)"]
            if view.etcd_data:
                steps.append(f"move {ETCD_DATA} aside to {self.aside()}")
            steps.append(
                f"{view.tool} snapshot restore as member {member.name} ({member.peer_url})"
            )
            if view.missing_pki:
                steps.append(f"put back {', '.join(view.missing_pki)}")
            steps.append("start the control plane")
            out.append(f"  {view.address} ({view.hostname}): " + "; ".join(steps))
        out.append(
            "then wait for every master's /readyz and etcd health, one etcd member per "
            "master, and every Node Ready"
        )
        return out


@dataclass(frozen=True)
class RestoreReport:
    masters: tuple[str, ...]
    aside: dict[str, str]
    pki_restored: dict[str, tuple[str, ...]]
    members: int
    nodes: tuple[NodeInfo, ...]
    stale_kubelets: tuple[str, ...]
    seconds: float
    #: address -> Node name of the stale kubelets (re-joined after the restore)
    stale_names: dict[str, str] = field(default_factory=dict)
    rejoined: tuple[str, ...] = ()

    def to_json(self) -> dict[str, object]:
        return {
            "masters": list(self.masters),
            "aside": self.aside,
            "pki_restored": {k: list(v) for k, v in self.pki_restored.items()},
            "etcd_members": self.members,
            "nodes": [{"name": n.name, "ready": n.ready} for n in self.nodes],
            "stale_kubelets": list(self.stale_kubelets),
            "rejoined": list(self.rejoined),
            "seconds": round(self.seconds, 1),
        }


def check_archive(cluster: Cluster, archive: Archive, where: str, *, force: bool) -> list[str]:
    """Refuse an archive of another cluster (unless ``force``: then a warning)."""
    if archive.cluster == cluster.metadata.name:
        return []
    message = (
        f"{where}: the archive is a backup of cluster {archive.cluster!r}, the Clusterfile "
        f"names {cluster.metadata.name!r}"
    )
    if not force:
        raise ArchiveError(message, hint="--force restores it anyway; nothing was changed")
    return [message + " (--force)"]


async def _present(conns: Remote, access: HostAccess, paths: Sequence[str]) -> set[str]:
    result = await conns.run(access, ["stat", "-c", "%n", "--", *paths], check=False)
    return {line for line in result.stdout.splitlines() if line in paths}


async def _tool(conns: Remote, access: HostAccess) -> str:
    """``etcdutl`` when the host has it (etcd 3.5+), else ``etcdctl``; "" when neither."""
    for tool in ("etcdutl", "etcdctl"):
        found = await conns.run(access, [tool, "version"], check=False)
        if found.exit_status == 0:
            return tool
    return ""


async def _view(
    conns: Remote, cluster: Cluster, archive: Archive, address: str, connect_timeout: float
) -> MasterView:
    access = host_access(cluster, address, connect_timeout=connect_timeout)
    name = await collect(conns, access, hostname)
    identity = await collect(conns, access, host_identity)
    pki = {f"{KUBERNETES_DIR}/{p}": p for p in sorted(archive.pki)}
    manifests = {pod.manifest: pod.name for pod in STATIC_PODS}
    present = await _present(conns, access, [*manifests, ETCD_DATA, *pki])
    return MasterView(
        address=address,
        access=access,
        hostname=name,
        identity=identity,
        manifests=tuple(n for m, n in manifests.items() if m in present),
        etcd_data=ETCD_DATA in present,
        tool=await _tool(conns, access),
        missing_pki=tuple(p for path, p in pki.items() if path not in present),
    )


async def read_masters(
    conns: Remote, cluster: Cluster, archive: Archive, connect_timeout: float
) -> list[MasterView]:
    return list(
        await gather_all(
            *(
                _view(conns, cluster, archive, a, connect_timeout)
                for a in cluster.spec.master_addresses
            )
        )
    )


def plan_restore(
    cluster: Cluster, archive: Archive, views: Sequence[MasterView], *, force: bool
) -> tuple[RestorePlan, list[str]]:
    """The restore of ``archive`` onto the masters as read; PlanError when it is unsafe."""
    warnings: list[str] = []
    for view in views:
        identity = view.identity
        if identity is None or (identity.name, identity.uid) == (archive.cluster, archive.uid):
            continue
        message = (
            f"{view.address}: this host belongs to cluster {identity.name!r} (uid "
            f"{identity.uid}), the archive is of {archive.cluster!r} (uid {archive.uid})"
        )
        if not force:
            raise PlanError(message + ". Nothing was changed.", hint="--force restores anyway")
        warnings.append(message + " (--force)")
    bare = [v.address for v in views if not v.manifests]
    if bare:
        raise PlanError(
            f"cluster {cluster.metadata.name}: master(s) {', '.join(bare)} have no control-plane "
            "manifests (/etc/kubernetes/manifests): restore puts etcd's data back under the "
            "installed control planes, or onto masters that are all fresh (no manifests and no "
            "etcd data: wiped by `sealer clean`). Nothing was changed.",
            hint="`sealer clean` those masters too (a Clusterfile listing only them), or bring "
            "their control plane back, then restore",
        )
    missing = [v.address for v in views if not v.tool]
    if missing:
        raise PlanError(
            f"{', '.join(missing)}: neither etcdutl nor etcdctl is installed (the offline "
            "package installs etcdctl). Nothing was changed."
        )
    members = restored_members(
        [v.address for v in views], {v.address: v.hostname for v in views}, archive.etcd.members
    )
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    token = f"sealer-restore-{stamp.lower()}-{secrets.token_hex(4)}"
    return RestorePlan(archive, tuple(views), members, token, stamp), warnings


def all_fresh(views: Sequence[MasterView]) -> bool:
    """Every master is fresh (no control-plane manifests, no etcd data: wiped by `sealer
    clean`): the control plane is installed from the archive's CAs and identity first
    (:func:`masters_only`, :func:`archive_ca`, :func:`archive_identity`), then restored."""
    return all(not v.manifests and not v.etcd_data for v in views)


def masters_only(cluster: Cluster) -> Cluster:
    """The Clusterfile without its nodes: what installs fresh masters before a restore (the
    nodes are joined to the cluster in the snapshot and keep their kubelets)."""
    spec = cluster.spec.model_copy(update={"nodes": []})
    spec.__dict__.pop("node_addresses", None)  # a cached_property: model_copy copied its value
    return cluster.model_copy(update={"spec": spec})


def archive_identity(archive: Archive) -> ClusterIdentity:
    try:
        return ClusterIdentity.from_mapping(json.loads(archive.identity))
    except ValueError as exc:
        raise ArchiveError(f"the archive's cluster.json is not a cluster identity: {exc}") from None


def archive_ca(archive: Archive) -> ClusterCA:
    return ClusterCA.load(archive.pki, where="the archive")


def fresh_lines(cluster: Cluster, archive: Archive) -> list[str]:
    masters = ", ".join(cluster.spec.master_addresses)
    return [
        f"every master is fresh: install the control plane on {masters} first (as `sealer "
        "apply` of the masters only would, with the archive's CAs and identity "
        f"{archive.cluster}/{archive.uid}), then restore etcd from the snapshot on them; the "
        "nodes are not touched",
    ]


Emit = Callable[[str, str], None]


async def _stop(
    conns: Remote, plan: RestorePlan, view: MasterView, options: RestoreOptions, emit: Emit
) -> None:
    access = view.access
    staging = plan.staging()
    await conns.run(access, ["mkdir", "-p", "-m", "0700", "--", staging])
    for pod in STATIC_PODS:
        if pod.name in view.manifests:
            await conns.run(access, ["mv", "-f", "--", pod.manifest, f"{staging}/{pod.name}.yaml"])

    async def stopped() -> bool:
        return not (await collect(conns, access, listening_ports)) & _STATIC_PORTS

    if not await poll_until(
        stopped, timeout=options.stop_timeout, interval=options.poll_interval / 2
    ):
        raise StepError(
            "restore",
            view.address,
            "the kubelet did not stop the control plane "
            f"after {options.stop_timeout:.0f}s (manifests are in {staging})",
        )
    emit(view.address, f"control plane stopped (manifests in {staging})")


async def _restore_member(
    conns: Remote, plan: RestorePlan, view: MasterView, emit: Emit
) -> str | None:
    access = view.access
    snapshot = f"{RESTORE_WORK_DIR}/snapshot-{plan.stamp}.db"
    fresh = f"{ETCD_DIR}/restore-{plan.stamp}"
    await conns.run(access, ["mkdir", "-p", "-m", "0700", "--", RESTORE_WORK_DIR])
    sent = await conns.put(access, plan.archive.snapshot, snapshot, mode=0o600)
    if sent != hashlib.sha256(plan.archive.snapshot).hexdigest():
        raise StepError("restore", view.address, "the snapshot's copy has another sha256")
    aside = None
    if view.etcd_data:
        aside = plan.aside()
        await conns.run(access, ["mv", "-T", "--", ETCD_DATA, aside])
        emit(view.address, f"old etcd data moved to {aside}")
    argv = restore_argv(
        view.tool,
        snapshot,
        plan.members[view.address],
        initial_cluster(plan.members),
        plan.token,
        fresh,
    )
    await conns.run(access, ["mkdir", "-p", "-m", "0700", "--", ETCD_DIR])
    await conns.run(access, argv, timeout=RESTORE_TIMEOUT, env={"ETCDCTL_API": "3"})
    await conns.run(access, ["mv", "-T", "--", f"{fresh}/member", ETCD_DATA])
    await conns.run(access, ["rmdir", "--", fresh])
    await conns.run(access, ["rm", "-f", "--", snapshot])
    emit(view.address, f"snapshot restored as member {plan.members[view.address].name}")
    return aside


async def _put_pki(conns: Remote, plan: RestorePlan, view: MasterView, emit: Emit) -> None:
    for relative in view.missing_pki:
        mode = KEY_MODE if relative.endswith(".key") else CERT_MODE
        await conns.put(
            view.access,
            plan.archive.pki[relative],
            f"{KUBERNETES_DIR}/{relative}",
            mode=mode,
            parents=True,
        )
    if view.missing_pki:
        emit(view.address, f"put back {', '.join(view.missing_pki)}")


async def _manifests_back(
    conns: Remote, plan: RestorePlan, view: MasterView, *, check: bool
) -> None:
    """The manifests back where the kubelet reads them (``check=False``: as far as it goes,
    after a failure, without overwriting a manifest someone put back meanwhile)."""
    staging = plan.staging()
    for pod in STATIC_PODS:
        if pod.name in view.manifests:
            source = f"{staging}/{pod.name}.yaml"
            await conns.run(view.access, ["mv", "-n", "--", source, pod.manifest], check=check)
    await conns.run(view.access, ["rmdir", "--", staging], check=False)


async def _start(
    conns: Remote, plan: RestorePlan, view: MasterView, options: RestoreOptions, emit: Emit
) -> None:
    access = view.access
    await _manifests_back(conns, plan, view, check=True)

    async def ready() -> bool:
        try:
            return (await collect(conns, access, etcd_healthy)).ok and (
                await collect(conns, access, api_ready)
            ).ok
        except SealerError:
            return False

    if not await poll_until(ready, timeout=options.ready_timeout, interval=options.poll_interval):
        raise StepError(
            "restore",
            view.address,
            f"the API server or etcd did not become healthy in {options.ready_timeout:.0f}s",
        )
    emit(view.address, "API server ready and etcd member healthy")


def _verifies(cert_pem: bytes, ca_pem: bytes) -> bool:
    try:
        cert = x509.load_pem_x509_certificate(cert_pem)
        cert.verify_directly_issued_by(x509.load_pem_x509_certificate(ca_pem))
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


async def stale_kubelets(
    conns: Remote, cluster: Cluster, ca_pem: bytes, connect_timeout: float
) -> dict[str, str]:
    """Node address -> Node name (its host name) of the nodes whose kubelet client certificate
    does not verify against the cluster CA (a node without that file is not judged)."""

    async def name_if_stale(address: str) -> str | None:
        access = host_access(cluster, address, connect_timeout=connect_timeout)
        data = await conns.read_file(access, KUBELET_CLIENT_CERT_PATH)
        if data is None or _verifies(data, ca_pem):
            return None
        return (await collect(conns, access, hostname)).strip().lower()

    addresses = cluster.spec.node_addresses  # every node at once, as the facts are read
    names = await gather_all(*(name_if_stale(a) for a in addresses))
    return {a: name for a, name in zip(addresses, names, strict=True) if name is not None}


async def _nodes(conns: Remote, access: HostAccess) -> tuple[NodeInfo, ...]:
    """The Nodes as ``access``'s master lists them; none while its API does not answer."""
    try:
        listed: list[NodeInfo] = await collect(conns, access, kube_nodes)
        return tuple(listed)
    except SealerError:
        return ()


async def wait_nodes_ready(
    conns: Remote, plan: RestorePlan, names: Sequence[str], options: RestoreOptions
) -> tuple[NodeInfo, ...]:
    """Every Node listed, ``names`` among them Ready (after their re-join); StepError else."""
    first = plan.masters[0].access
    wanted = set(names)
    seen = await poll_until(
        lambda: _nodes(conns, first),
        timeout=options.nodes_timeout,
        interval=options.poll_interval,
        done=lambda ns: wanted <= {n.name for n in ns if n.ready},
    )
    late = sorted(wanted - {n.name for n in seen if n.ready})
    if late:
        raise StepError(
            "restore",
            None,
            f"re-joined Nodes not Ready after {options.nodes_timeout:.0f}s: {', '.join(late)}",
        )
    return seen


async def run_restore(
    conns: Remote,
    cluster: Cluster,
    plan: RestorePlan,
    options: RestoreOptions,
    emit: Emit,
    connect_timeout: float = 10.0,
) -> RestoreReport:
    started = time.monotonic()
    masters = plan.masters
    try:
        await gather_all(*(_stop(conns, plan, v, options, emit) for v in masters))
        asides = await gather_all(*(_restore_member(conns, plan, v, emit) for v in masters))
        await gather_all(*(_put_pki(conns, plan, v, emit) for v in masters))
    except SealerError as exc:
        # a stopped control plane helps nobody: start it again (on whatever data each master
        # has now) so that the next restore finds installed masters and converges
        await asyncio.gather(
            *(_manifests_back(conns, plan, v, check=False) for v in masters),
            return_exceptions=True,
        )
        raise StepError(
            "restore",
            None,
            f"{exc}. The control-plane manifests were put back; etcd data that was moved "
            f"aside is in {plan.aside()} on its master. Fix the cause and run `sealer "
            "restore` again.",
        ) from exc
    await gather_all(*(_start(conns, plan, v, options, emit) for v in masters))
    first = masters[0].access
    members = await collect(conns, first, etcd_members)
    if len(members) != len(masters):
        raise StepError(
            "restore",
            masters[0].address,
            f"etcd lists {len(members)} members, expected {len(masters)}",
        )
    emit(masters[0].address, f"etcd has {len(members)} members")

    # a node whose kubelet cannot authenticate will not be Ready: it needs a re-join
    stale = await stale_kubelets(conns, cluster, plan.archive.pki["pki/ca.crt"], connect_timeout)
    if stale:
        emit(masters[0].address, f"kubelet credentials that do not verify: {', '.join(stale)}")
    rejoin = set(stale.values())
    seen = await poll_until(
        lambda: _nodes(conns, first),
        timeout=options.nodes_timeout,
        interval=options.poll_interval,
        done=lambda ns: bool(ns) and all(n.ready or n.name in rejoin for n in ns),
    )
    not_ready = [n.name for n in seen if not n.ready and n.name not in rejoin]
    if not seen or not_ready:
        raise StepError(
            "restore",
            None,
            "Nodes not Ready after "
            f"{options.nodes_timeout:.0f}s: {', '.join(not_ready) or 'none listed'}",
        )
    emit(masters[0].address, f"{len(seen) - len(rejoin)} Nodes Ready")
    return RestoreReport(
        masters=tuple(v.address for v in masters),
        aside={v.address: a for v, a in zip(masters, asides, strict=True) if a},
        pki_restored={v.address: v.missing_pki for v in masters if v.missing_pki},
        members=len(members),
        nodes=seen,
        stale_kubelets=tuple(stale),
        seconds=time.monotonic() - started,
        stale_names=dict(stale),
    )
