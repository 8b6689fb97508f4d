"""Live state as the planner sees it: built from facts, read-only, no I/O here."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from sealer.facts.addon import AppliedAddon
from sealer.facts.backup_schedule import BackupSchedule
from sealer.facts.hosts import HostsEntry
from sealer.facts.identity import ClusterIdentity
from sealer.facts.preflight import HostPreflight
from sealer.facts.system import OsRelease

__all__ = ["ClusterState", "LiveHost", "LiveNode"]

Role = Literal["control-plane", "worker"]


@dataclass(frozen=True)
class LiveHost:
    """What one host of the Clusterfile looks like now, as the planner reads it (from the
    gathered :class:`~sealer.facts.gather.HostFacts`); :class:`LiveNode` is its Node object."""

    address: str
    reachable: bool
    error: str = ""
    hostname: str = ""
    package_sha256: str | None = None  # of the package file sealer keeps on the host
    kubeadm_version: str | None = None  # `kubeadm version -o short`, None when not installed
    kubelet_configured: bool = False  # /etc/kubernetes/kubelet.conf exists
    role: Role | None = None  # joined as, from the files kubeadm wrote
    hosts_entries: tuple[HostsEntry, ...] | None = None  # sealer's /etc/hosts block
    lb_config: str | None = None  # the care daemon's configuration file, as written
    lb_active: bool = False
    #: spec.backup's files and timer on the host; None when not read
    backup: BackupSchedule | None = None
    #: Files that mean a cluster lives (or lived) here: static pod manifests, etcd data,
    #: admin.conf, sealer's identity file. Empty on a host that never held a cluster.
    cluster_state: tuple[str, ...] = ()
    etcd_data: bool = False  # holds etcd data (a member's data directory or its manifest)
    init_started: bool = False  # sealer's init marker without a recorded identity
    identity: ClusterIdentity | None = None  # the cluster this host was installed for
    os: OsRelease | None = None
    arch: str | None = None  # as Go names it ("amd64")
    #: What the preflight checks read (sealer/plan/preflight.py); None when not read.
    preflight: HostPreflight | None = None


@dataclass(frozen=True)
class LiveNode:
    """A Node object of the live cluster."""

    name: str
    address: str  # InternalIP
    roles: tuple[str, ...]
    version: str
    ready: bool
    created: str = ""
    unschedulable: bool = False  # cordoned
    upgrading_to: str = ""  # sealer cordoned it for an upgrade to this version (a run stopped)


@dataclass(frozen=True)
class ClusterState:
    """The whole live picture: every host of the file plus the cluster's own view."""

    hosts: dict[str, LiveHost]
    initialized: bool = False  # some master serves a cluster
    api_host: str | None = None  # the master the cluster facts were read from
    nodes: tuple[LiveNode, ...] = ()
    etcd_members: tuple[str, ...] = ()  # member names
    etcd_peer_urls: tuple[str, ...] = ()  # every member's peer URLs (unstarted ones have no name)
    extra_hosts: dict[str, LiveHost] = field(default_factory=dict)  # removed from the file
    #: The ClusterConfiguration the cluster was created with (kept by sealer on master0 at
    #: /etc/kubernetes/sealer/kubeadm.yaml), None when unknown.
    created_with: dict[str, Any] | None = None
    #: Masters whose API server or etcd could not be read, with what each answered.
    unread: dict[str, str] = field(default_factory=dict)
    #: Who the cluster is: from its ConfigMap, else from its masters' identity files.
    identity: ClusterIdentity | None = None
    #: The cluster's ConfigMap holds the identity (None: not read, the API did not answer).
    identity_in_cluster: bool | None = None
    #: The IPv4 address each host the file names by DNS name resolved to on this workstation.
    resolved: dict[str, str] = field(default_factory=dict)
    #: The network add-on sealer applied (ConfigMap kube-system/sealer-cni), None when none.
    addon: AppliedAddon | None = None

    def etcd_member(self, hostname: str, address: str) -> bool:
        """The host is listed as an etcd member (by name, or by peer URL for a member that
        was added but never started)."""
        return (bool(hostname) and hostname in self.etcd_members) or any(
            url in (f"https://{address}:2380", f"https://[{address}]:2380")
            for url in self.etcd_peer_urls
        )

    def node_at(self, address: str) -> LiveNode | None:
        return next((n for n in self.nodes if n.address == address), None)
