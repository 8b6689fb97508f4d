"""Read-only facts for ``sealer status``: kubelet active, the installed package's version, the
container runtime's answer (``crictl info``), the earliest certificate expiry, the load
balancer's rules, a master's scheduled backups (``spec.backup``), etcd's leader, each master's
API.

Per host, one batch (:func:`gather_host_status`); per cluster, the reads through the master
that serves it (:func:`gather_cluster_status`). Nothing here judges health: that is
:mod:`sealer.plan.status`.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sealer.aio import gather_all
from sealer.connect import HostAccess, Remote, Result
from sealer.errors import SealerError
from sealer.facts.backup_schedule import LastSnapshot, backup_service_failed, last_snapshot
from sealer.facts.base import Fact, UnexpectedExit, collect, collect_many
from sealer.facts.certs import CertInfo, certificate
from sealer.facts.cluster import ETCDCTL, EndpointHealth, etcd_health
from sealer.facts.health import Health, api_ready
from sealer.facts.node_setup import parse_care_active
from sealer.facts.runtime import RuntimeStatus, runtime_status
from sealer.layout import CRI_SOCKET, PKI_DIR, UNPACKED_DIR
from sealer.lb.facts import NFT_LIST_ARGV, parse_nft_ruleset

__all__ = [
    "CERTIFICATES",
    "BackupRuns",
    "ClusterStatusFacts",
    "HostStatusFacts",
    "gather_cluster_status",
    "gather_host_status",
    "host_status_facts",
    "parse_etcd_leader",
    "parse_lb_backends",
    "parse_package_version",
]

#: The certificates whose earliest expiry ``status`` shows (those a host has).
CERTIFICATES: tuple[str, ...] = (
    f"{PKI_DIR}/apiserver.crt",
    f"{PKI_DIR}/apiserver-kubelet-client.crt",
    f"{PKI_DIR}/apiserver-etcd-client.crt",
    f"{PKI_DIR}/front-proxy-client.crt",
    f"{PKI_DIR}/etcd/server.crt",
    f"{PKI_DIR}/etcd/peer.crt",
    "/var/lib/kubelet/pki/kubelet-client-current.pem",
)


def parse_package_version(result: Result) -> str | None:
    """``cat -- /var/lib/sealer/package/kube/Metadata``: its ``k8sVersion`` (None when the
    package is not unpacked on the host)::

    {"version": "v1.29.3", "k8sVersion": "v1.29.3", "arch": "amd64"}
    """
    if result.exit_status != 0:
        if "No such file or directory" in result.stderr:
            return None
        raise UnexpectedExit(result)
    data = json.loads(result.stdout)
    return str(data.get("k8sVersion") or data["version"])


package_version: Fact[str | None] = Fact(
    "package version", ("cat", "--", f"{UNPACKED_DIR}/Metadata"), parse_package_version
)

kubelet_active: Fact[bool] = Fact(
    "kubelet state", ("systemctl", "is-active", "kubelet"), parse_care_active
)


def parse_lb_backends(result: Result) -> tuple[str, ...] | None:
    """``nft -j list table ip sealer_care``: the masters the VIP goes to now (the care daemon
    keeps only the healthy ones in the map); None without the table (or without nft)."""
    if result.exit_status != 0:
        if "No such file or directory" in result.stderr or result.exit_status == 127:
            return None
        raise UnexpectedExit(result)
    return tuple(parse_nft_ruleset(result.stdout))


lb_backends: Fact[tuple[str, ...] | None] = Fact(
    "load-balancer rules", NFT_LIST_ARGV, parse_lb_backends
)


@dataclass(frozen=True)
class BackupRuns:
    """A master's scheduled snapshots (``spec.backup``): the newest one in the directory (None:
    none yet) and whether the service's last run failed."""

    last: LastSnapshot | None
    last_run_failed: bool


@dataclass(frozen=True)
class HostStatusFacts:
    kubelet_active: bool
    package_version: str | None
    lb_backends: tuple[str, ...] | None
    earliest_cert: tuple[str, dt.datetime] | None  # (path, not after)
    runtime: RuntimeStatus | None = None  # the container runtime's answer (crictl info)
    backups: BackupRuns | None = None  # read on masters when spec.backup is set


def host_status_facts(
    cri_socket: str = CRI_SOCKET, backup_dir: str | None = None
) -> tuple[Fact[Any], ...]:
    """The facts :func:`gather_host_status` reads: four, the two of the scheduled backups
    when ``backup_dir`` is given, then the certificates."""
    backups: tuple[Fact[Any], ...] = ()
    if backup_dir is not None:
        backups = (last_snapshot(backup_dir), backup_service_failed)
    return (
        kubelet_active,
        package_version,
        lb_backends,
        runtime_status(cri_socket),
        *backups,
        *(certificate(path) for path in CERTIFICATES),
    )


async def gather_host_status(
    conns: Remote, host: HostAccess, cri_socket: str = CRI_SOCKET, backup_dir: str | None = None
) -> HostStatusFacts:
    """The status facts of one reachable host, in one command (``cri_socket``: the endpoint
    its kubelet is given; ``backup_dir``: ``spec.backup.dir``, on a master that has one)."""
    found = await collect_many(conns, host, host_status_facts(cri_socket, backup_dir))
    active, version, backends, runtime = found[:4]
    rest = found[4:]
    backups = None
    if backup_dir is not None:
        backups, rest = BackupRuns(rest[0], rest[1]), rest[2:]
    certs: list[tuple[str, CertInfo]] = [
        (path, info) for path, info in zip(CERTIFICATES, rest, strict=True) if info
    ]
    earliest = min(((p, c.not_after) for p, c in certs), key=lambda pc: pc[1], default=None)
    return HostStatusFacts(active, version, backends, earliest, runtime, backups)


def parse_etcd_leader(result: Result) -> str | None:
    """``etcdctl endpoint status --cluster -w json``: the client URL of the member that is
    the leader (None when no member answered as one)::

        [{"Endpoint": "https://10.0.0.11:2379",
          "Status": {"header": {"member_id": 17}, "leader": 17}}, ...]
    """
    try:
        data = json.loads(result.stdout)
    except ValueError:
        raise UnexpectedExit(result) from None
    if not isinstance(data, list):
        raise UnexpectedExit(result)
    for item in data:
        status = item.get("Status") or {}
        if status.get("leader") and status.get("header", {}).get("member_id") == status["leader"]:
            return str(item["Endpoint"])
    return None


etcd_leader: Fact[str | None] = Fact(
    "etcd leader",
    (*ETCDCTL, "endpoint", "status", "--cluster", "-w", "json"),
    parse_etcd_leader,
    timeout=60.0,
)


@dataclass(frozen=True)
class ClusterStatusFacts:
    """etcd as the serving master sees it, and each master's own API server."""

    etcd: tuple[EndpointHealth, ...] | None  # None: could not be read
    etcd_leader: str | None
    etcd_error: str
    api: dict[str, Health]  # master address -> its /readyz


async def gather_cluster_status(
    conns: Remote, api_host: HostAccess | None, masters: Sequence[HostAccess]
) -> ClusterStatusFacts:
    """etcd's members, health and leader through ``api_host`` (when a master serves), and
    the /readyz of every master in ``masters`` (their own API servers)."""

    async def ready(master: HostAccess) -> Health:
        try:
            return await collect(conns, master, api_ready)
        except SealerError as exc:
            return Health(False, exc.message[:160])

    api = dict(
        zip(
            (m.address for m in masters),
            await gather_all(*(ready(m) for m in masters)),
            strict=True,
        )
    )
    if api_host is None:
        return ClusterStatusFacts(None, None, "", api)
    try:
        health, leader = await collect_many(conns, api_host, (etcd_health, etcd_leader))
    except SealerError as exc:
        return ClusterStatusFacts(None, None, exc.message[:300], api)
    return ClusterStatusFacts(tuple(health), leader, "", api)
