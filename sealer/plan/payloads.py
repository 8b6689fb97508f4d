"""What the planner decided for one step: one frozen payload class per :class:`StepKind`.

A payload holds the values a step carries out (the /etc/hosts entries, the load balancer's
configuration, the node to drain, whether a member is removed first...), so nothing after the
planner works a decision out again. A step still re-reads the live state it acts on when it
runs (the plan may be stale), but it takes the decision from its payload.

The kind belongs to the payload class (``kind``), so a planned step cannot name one kind and
carry another kind's payload.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from sealer.facts.hosts import HostsEntry
from sealer.plan.kinds import StepKind

__all__ = [
    "BackupSchedulePayload",
    "CleanPayload",
    "CniPayload",
    "DeleteNodePayload",
    "DistributePayload",
    "DrainPayload",
    "HostsPayload",
    "IdentityPayload",
    "InitPayload",
    "InstallPayload",
    "IpvsPayload",
    "JoinMasterPayload",
    "JoinNodePayload",
    "Payload",
    "PreparePayload",
    "RemoveMemberPayload",
    "SnapshotPayload",
    "StagePayload",
    "StepPayload",
    "UpgradeMasterPayload",
    "UpgradeNodePayload",
    "UpgradeSettings",
]

#: The words ``sealer diff --output json`` shows in a step's ``flags`` (kept from before the
#: payloads were typed, for the scripts that read them).
RESET_HALF_DONE_INIT = "reset-half-done-init"
REMOVE_ETCD_MEMBER = "remove-etcd-member"
IDENTITY_CONFIGMAP = "configmap"


class StepPayload:
    """Base of the payloads: the kind they belong to and the flags ``sealer diff`` shows."""

    kind: ClassVar[StepKind]

    @property
    def flags(self) -> tuple[str, ...]:
        return ()


@dataclass(frozen=True)
class PreparePayload(StepPayload):
    """What preflight found wrong and sealer fixes: swap turned off (and commented out of
    /etc/fstab), kernel modules loaded (and listed in /etc/modules-load.d/), sysctls set to 1
    (and written to /etc/sysctl.d/). Only these; nothing else on the host is touched."""

    kind: ClassVar[StepKind] = StepKind.PREPARE
    swap_off: bool = False
    modules: tuple[str, ...] = ()
    sysctls: tuple[str, ...] = ()

    @property
    def flags(self) -> tuple[str, ...]:
        return (
            *(("swapoff",) if self.swap_off else ()),
            *(f"modprobe:{m}" for m in self.modules),
            *(f"sysctl:{k}" for k in self.sysctls),
        )


@dataclass(frozen=True)
class DistributePayload(StepPayload):
    """The run's package is copied (when the host has no verified copy) and installed.

    ``source``: the host whose verified copy this host fetches over the cluster network (the
    relay, sealer/plan/relay.py), or None for an upload from the workstation."""

    kind: ClassVar[StepKind] = StepKind.DISTRIBUTE
    source: str | None = None


@dataclass(frozen=True)
class InstallPayload(StepPayload):
    """The package's Kubernetes is installed from the host's copy. ``new_copy``: the copy is
    made in this run (its distribute step comes first), so it is installed even when the
    binaries already report the right version."""

    kind: ClassVar[StepKind] = StepKind.INSTALL
    new_copy: bool = False


@dataclass(frozen=True)
class HostsPayload(StepPayload):
    """sealer's /etc/hosts block on the host: exactly these entries."""

    kind: ClassVar[StepKind] = StepKind.HOSTS
    entries: tuple[HostsEntry, ...]


@dataclass(frozen=True)
class IpvsPayload(StepPayload):
    """The care daemon's configuration text, and the masters it sends the VIP to."""

    kind: ClassVar[StepKind] = StepKind.IPVS
    config: str
    backends: tuple[str, ...]


@dataclass(frozen=True)
class InitPayload(StepPayload):
    """``reset_half_done``: master0 holds sealer's own init that stopped half-way: reset it."""

    kind: ClassVar[StepKind] = StepKind.INIT
    reset_half_done: bool = False

    @property
    def flags(self) -> tuple[str, ...]:
        return (RESET_HALF_DONE_INIT,) if self.reset_half_done else ()


@dataclass(frozen=True)
class JoinMasterPayload(StepPayload):
    """``hosts_after_join``: the host's /etc/hosts block once it has joined (its own address);
    ``remove_etcd_member``: a half-done join left its etcd member listed: remove it (quorum
    checked) before the reset."""

    kind: ClassVar[StepKind] = StepKind.JOIN_MASTER
    hosts_after_join: tuple[HostsEntry, ...]
    remove_etcd_member: bool = False

    @property
    def flags(self) -> tuple[str, ...]:
        return (REMOVE_ETCD_MEMBER,) if self.remove_etcd_member else ()


@dataclass(frozen=True)
class JoinNodePayload(StepPayload):
    """A worker joins through its VIP. ``rejoin``: the host is a node of the cluster whose
    kubelet credentials no longer verify (after a restore): its kubelet state is reset and it
    joins again once its Node is no longer Ready (the Node object, and its uid, stay)."""

    kind: ClassVar[StepKind] = StepKind.JOIN_NODE
    rejoin: bool = False

    @property
    def flags(self) -> tuple[str, ...]:
        return ("rejoin",) if self.rejoin else ()


@dataclass(frozen=True)
class IdentityPayload(StepPayload):
    """``in_cluster``: also record the identity in the cluster (its ConfigMap is missing)."""

    kind: ClassVar[StepKind] = StepKind.IDENTITY
    in_cluster: bool = False

    @property
    def flags(self) -> tuple[str, ...]:
        return (IDENTITY_CONFIGMAP,) if self.in_cluster else ()


@dataclass(frozen=True)
class SnapshotPayload(StepPayload):
    """etcd's data saved on the host (a master that serves the cluster) and copied home."""

    kind: ClassVar[StepKind] = StepKind.SNAPSHOT


@dataclass(frozen=True)
class DrainPayload(StepPayload):
    """The Node to drain, as the cluster names it."""

    kind: ClassVar[StepKind] = StepKind.DRAIN
    node_name: str


@dataclass(frozen=True)
class CleanPayload(StepPayload):
    """``remove_etcd_member``: a master leaving a cluster that stays: etcd checked healthy with
    a quorum left without it, and its member removed, before the reset."""

    kind: ClassVar[StepKind] = StepKind.CLEAN
    remove_etcd_member: bool = False

    @property
    def flags(self) -> tuple[str, ...]:
        return (REMOVE_ETCD_MEMBER,) if self.remove_etcd_member else ()


@dataclass(frozen=True)
class RemoveMemberPayload(StepPayload):
    """The etcd member of the (unreachable) host removed through a master that serves."""

    kind: ClassVar[StepKind] = StepKind.REMOVE_MEMBER


@dataclass(frozen=True)
class DeleteNodePayload(StepPayload):
    """The Node object to delete, as the cluster names it."""

    kind: ClassVar[StepKind] = StepKind.DELETE_NODE
    node_name: str


@dataclass(frozen=True)
class CniPayload(StepPayload):
    """The network add-on to apply: its type, the package's manifest and the sha256 of the
    rendered manifest (the run's package holds the text; the step applies only that one)."""

    kind: ClassVar[StepKind] = StepKind.CNI
    addon_type: str
    manifest: str
    sha256: str


@dataclass(frozen=True)
class BackupSchedulePayload(StepPayload):
    """``spec.backup`` on a master: with a ``schedule``, the program, service and timer
    written as rendered from these values and the timer enabled and started; without one
    (``spec.backup`` removed), the timer disabled and the files removed. The snapshots always
    stay (a removal says where: the directory the installed service named)."""

    kind: ClassVar[StepKind] = StepKind.BACKUP_SCHEDULE
    schedule: str | None
    keep: int = 0
    directory: str = ""

    @property
    def flags(self) -> tuple[str, ...]:
        return ("remove",) if self.schedule is None else ()


@dataclass(frozen=True)
class StagePayload(StepPayload):
    """The run's package copied and unpacked next to the running one, for ``version``: no
    init.sh, no running binary touched."""

    kind: ClassVar[StepKind] = StepKind.STAGE
    version: str


@dataclass(frozen=True)
class UpgradeSettings:
    """What every upgrade step of a run shares: the target, where from, the drain."""

    version: str
    drain_seconds: int
    skip_drain: bool = False


@dataclass(frozen=True)
class UpgradeMasterPayload(StepPayload):
    """A master to ``settings.version``: its control plane (``kubeadm upgrade apply`` when
    ``first``, else ``upgrade node``), then drain, kubelet and kubectl, uncordon, gates."""

    kind: ClassVar[StepKind] = StepKind.UPGRADE_MASTER
    node_name: str
    settings: UpgradeSettings
    first: bool = False

    @property
    def flags(self) -> tuple[str, ...]:
        return ("upgrade-apply",) if self.first else ("upgrade-node",)


@dataclass(frozen=True)
class UpgradeNodePayload(StepPayload):
    """A worker to ``settings.version`` in batch ``batch`` (1-based) of ``batches``."""

    kind: ClassVar[StepKind] = StepKind.UPGRADE_NODE
    node_name: str
    settings: UpgradeSettings
    batch: int = 1
    batches: int = 1

    @property
    def flags(self) -> tuple[str, ...]:
        return (f"batch-{self.batch}-of-{self.batches}",)


#: Every payload; a planned step carries one of them.
Payload = (
    PreparePayload
    | DistributePayload
    | InstallPayload
    | HostsPayload
    | IpvsPayload
    | InitPayload
    | JoinMasterPayload
    | JoinNodePayload
    | IdentityPayload
    | SnapshotPayload
    | DrainPayload
    | CleanPayload
    | RemoveMemberPayload
    | DeleteNodePayload
    | CniPayload
    | StagePayload
    | UpgradeMasterPayload
    | UpgradeNodePayload
    | BackupSchedulePayload
)
