"""``sealer backup``: a verified etcd snapshot and the cluster's CAs, from one healthy master.

On the first master of the Clusterfile whose API server is ready and whose etcd member is
healthy: ``etcdctl snapshot save`` to a 0700 directory of sealer's, ``etcdctl snapshot status``
(it must hold keys), ``sha256sum``; the copy on the workstation must have the same sha256; the
file on the master is removed. The CAs are read with the one CA reader (and checked to be
CAs); the identity file must name the Clusterfile's cluster.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from sealer import __version__
from sealer.connect import HostAccess, Remote
from sealer.dr import ArchiveError
from sealer.dr.archive import Archive, EtcdInfo, EtcdMemberRecord
from sealer.dr.etcd import parse_etcdctl_version, parse_snapshot_status
from sealer.errors import PlanError, SealerError
from sealer.facts import collect, etcd_members, hostname
from sealer.facts.cluster import ETCDCTL
from sealer.facts.cluster_ca import read_ca
from sealer.facts.health import api_ready, etcd_healthy
from sealer.facts.identity import host_identity
from sealer.facts.system import parse_sha256sum
from sealer.kube.pki import CA_SOURCE_FILES
from sealer.layout import CLUSTER_IDENTITY, KUBERNETES_DIR, STATE_DIR
from sealer.plan.access import host_access
from sealer.spec.model import Cluster

__all__ = ["BACKUP_WORK_DIR", "SNAPSHOT_TIMEOUT", "choose_master", "take_backup"]

#: Where the snapshot is saved on the master until the workstation has its copy.
BACKUP_WORK_DIR = f"{STATE_DIR}/backup"
SNAPSHOT_TIMEOUT = 900.0
#: Besides the CAs: the service account's public key (kubeadm writes it next to sa.key).
PKI_EXTRA = ("pki/sa.pub",)


@dataclass(frozen=True)
class Healthy:
    address: str
    access: HostAccess


async def choose_master(conns: Remote, cluster: Cluster, connect_timeout: float) -> Healthy:
    """The first master of the file whose API server is ready and etcd member healthy."""
    said: list[str] = []
    for address in cluster.spec.master_addresses:
        access = host_access(cluster, address, connect_timeout=connect_timeout)
        try:
            api = await collect(conns, access, api_ready)
            etcd = await collect(conns, access, etcd_healthy)
        except SealerError as exc:  # an unreachable master: say so and ask the next one
            said.append(f"{address}: {exc}")
            continue
        if api.ok and etcd.ok:
            return Healthy(address, access)
        said.append(
            f"{address}: API {'ready' if api.ok else api.detail}; "
            f"etcd {'healthy' if etcd.ok else etcd.detail}"
        )
    raise PlanError(
        f"cluster {cluster.metadata.name}: no master is healthy (API server ready and etcd "
        f"member healthy): {'; '.join(said)}. Nothing was saved."
    )


async def take_backup(
    conns: Remote, cluster: Cluster, master: Healthy, clusterfile: bytes
) -> Archive:
    """Everything the archive holds, read from ``master`` and verified."""
    access = master.access
    where = master.address
    identity = await collect(conns, access, host_identity)
    if identity is None:
        raise PlanError(
            f"{where}: no cluster identity (/var/lib/sealer/cluster.json): run `sealer apply` "
            "once so that sealer records who the cluster is, then back it up"
        )
    if identity.name != cluster.metadata.name:
        raise PlanError(
            f"{where}: this master belongs to cluster {identity.name!r}, the Clusterfile "
            f"names {cluster.metadata.name!r}. Nothing was saved."
        )
    name = await collect(conns, access, hostname)
    members = await collect(conns, access, etcd_members)
    version = parse_etcdctl_version((await conns.run(access, ["etcdctl", "version"])).stdout)
    ca = await read_ca(conns, access)  # checks that the files are CAs and pairs
    del ca
    pki: dict[str, bytes] = {}
    for relative in (*CA_SOURCE_FILES, *PKI_EXTRA):
        data = await conns.read_file(access, f"{KUBERNETES_DIR}/{relative}")
        if data is not None:
            pki[relative] = data
    identity_bytes = await conns.read_file(access, CLUSTER_IDENTITY)
    assert identity_bytes is not None

    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    remote = f"{BACKUP_WORK_DIR}/.snapshot-{secrets.token_hex(6)}.db"
    await conns.run(access, ["mkdir", "-p", "-m", "0700", "--", BACKUP_WORK_DIR])
    try:
        await conns.run(access, [*ETCDCTL, "snapshot", "save", remote], timeout=SNAPSHOT_TIMEOUT)
        result = await conns.run(access, [*ETCDCTL, "snapshot", "status", "-w", "json", remote])
        try:
            status = parse_snapshot_status(result.stdout)
        except (ValueError, KeyError, TypeError) as exc:
            raise ArchiveError(f"{where}: etcdctl snapshot status: {exc}") from None
        if status.keys < 1:
            raise ArchiveError(f"{where}: the snapshot holds no keys: etcd's data is missing")
        sha256 = parse_sha256sum(await conns.run(access, ["sha256sum", "--", remote]))
        snapshot = await conns.get(access, remote)
    finally:
        await conns.run(access, ["rm", "-f", "--", remote], check=False)
    if hashlib.sha256(snapshot).hexdigest() != sha256:
        raise ArchiveError(f"{where}: the copy of the snapshot differs from the master's file")
    return Archive(
        cluster=cluster.metadata.name,
        uid=identity.uid,
        created=now.isoformat().replace("+00:00", "Z"),
        kubernetes_version=cluster.spec.version,
        sealer_version=__version__,
        etcd=EtcdInfo(
            revision=status.revision,
            hash=status.hash,
            keys=status.keys,
            size=len(snapshot),
            etcdctl_version=version,
            taken_on=f"{name} ({where})",
            members=tuple(EtcdMemberRecord(m.name, m.peer_urls[0]) for m in members if m.peer_urls),
        ),
        snapshot=snapshot,
        pki=pki,
        identity=identity_bytes,
        clusterfile=clusterfile,
    )
