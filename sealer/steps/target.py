"""What every step of one run shares: the Clusterfile, the package, access and live facts.

Frozen, passed explicitly to each step. The one piece of run state that steps fill in as
they go, the join credentials, lives in :class:`JoinCredentials` behind a lock.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from sealer.connect import Remote
from sealer.connect.settings import HostAccess
from sealer.facts.identity import ClusterIdentity
from sealer.kube.kubeadm_config import KubeadmHostFacts
from sealer.kube.pki import ClusterCA
from sealer.offline_package import LocalPackage
from sealer.plan.state import ClusterState
from sealer.spec.model import Cluster
from sealer.workstation import snapshot_dir

__all__ = ["JoinCredentials", "Target"]


@dataclass
class JoinCredentials:
    """The run's bootstrap token and CA hash, made once on demand (never logged); the token
    is deleted when the run's joins are done (:mod:`sealer.steps.kubeadm_join`)."""

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    token: str | None = None
    ca_cert_hash: str | None = None


@dataclass(frozen=True)
class Target:
    """``package`` and ``ca`` are None for runs that need neither (``sealer clean``)."""

    cluster: Cluster
    access: Mapping[str, HostAccess]
    live: ClusterState
    #: ``Connections`` in a run; any :class:`~sealer.connect.Remote` (a fake in the tests).
    conns: Remote
    kube_facts: Mapping[str, KubeadmHostFacts] = field(default_factory=dict)
    package_or_none: LocalPackage | None = None
    ca_or_none: ClusterCA | None = None
    identity_or_none: ClusterIdentity | None = None
    #: Where etcd snapshots are copied to on the workstation (None: sealer's state directory).
    snapshot_dir_or_none: Path | None = None
    credentials: JoinCredentials = field(default_factory=JoinCredentials)
    #: ``--upload-limit``: bytes per second on each link a relay copy uses (None: no limit).
    upload_limit: int | None = None

    @property
    def package(self) -> LocalPackage:
        if self.package_or_none is None:
            raise RuntimeError("this run has no package")  # a bug: the plan needs one
        return self.package_or_none

    @property
    def ca(self) -> ClusterCA:
        if self.ca_or_none is None:
            raise RuntimeError("this run has no cluster CA")  # a bug: the plan needs one
        return self.ca_or_none

    @property
    def identity(self) -> ClusterIdentity:
        if self.identity_or_none is None:
            raise RuntimeError("this run has no cluster identity")  # a bug: the plan has one
        return self.identity_or_none

    @property
    def snapshot_dir(self) -> Path:
        if self.snapshot_dir_or_none is not None:
            return self.snapshot_dir_or_none
        return snapshot_dir(self.cluster.metadata.name)

    def hostname(self, address: str) -> str:
        host = self.live.hosts.get(address) or self.live.extra_hosts.get(address)
        return host.hostname if host is not None and host.hostname else address
