"""etcd's side of a backup and a restore (pure): the snapshot's status, who the members are,
and the restore command of the host's etcd tools.

etcd 3.5+ restores with ``etcdutl snapshot restore`` (``etcdctl snapshot restore`` is
deprecated there and gone in 3.6); etcd 3.4 has only ``etcdctl snapshot restore``. A host that
has ``etcdutl`` uses it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from sealer.dr.archive import EtcdMemberRecord
from sealer.kube.pki import endpoint

__all__ = [
    "SnapshotStatus",
    "initial_cluster",
    "parse_etcdctl_version",
    "parse_snapshot_status",
    "peer_url",
    "restore_argv",
    "restored_members",
]

PEER_PORT = 2380


@dataclass(frozen=True)
class SnapshotStatus:
    hash: int
    revision: int
    keys: int
    size: int


def parse_snapshot_status(text: str) -> SnapshotStatus:
    """``etcdctl snapshot status -w json`` (or ``etcdutl``)::

    {"hash":3280519337,"revision":1187,"totalKey":642,"totalSize":3997696}
    """
    data = json.loads(text)
    return SnapshotStatus(
        hash=int(data["hash"]),
        revision=int(data["revision"]),
        keys=int(data["totalKey"]),
        size=int(data["totalSize"]),
    )


def parse_etcdctl_version(text: str) -> str:
    """``etcdctl version``::

    etcdctl version: 3.4.23
    API version: 3.4
    """
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "etcdctl version" and value.strip():
            return value.strip()
    raise ValueError(f"no 'etcdctl version:' line in {text[:80]!r}")


def peer_url(address: str) -> str:
    """kubeadm's peer URL of a master: ``https://ADDRESS:2380`` (IPv6 in brackets)."""
    return "https://" + endpoint(address, PEER_PORT)


def _host_of(url: str) -> str:
    return urlsplit(url).hostname or ""


def restored_members(
    masters: Sequence[str], hostnames: Mapping[str, str], recorded: Sequence[EtcdMemberRecord]
) -> dict[str, EtcdMemberRecord]:
    """Master address -> the member it becomes: the recorded member whose peer URL names that
    address (same name, same peer URL), else kubeadm's (the host's name, its peer URL)."""
    out: dict[str, EtcdMemberRecord] = {}
    for address in masters:
        same = [m for m in recorded if _host_of(m.peer_url) == address]
        out[address] = same[0] if same else EtcdMemberRecord(hostnames[address], peer_url(address))
    return out


def initial_cluster(members: Mapping[str, EtcdMemberRecord]) -> str:
    """``name=peerURL,...`` in the masters' order."""
    return ",".join(f"{m.name}={m.peer_url}" for m in members.values())


def restore_argv(
    tool: str,
    snapshot: str,
    member: EtcdMemberRecord,
    cluster: str,
    token: str,
    data_dir: str,
) -> list[str]:
    """The restore of one member into ``data_dir`` (which must not exist); ``tool`` is
    ``etcdutl`` or ``etcdctl``, which take the same flags for this."""
    return [
        tool,
        "snapshot",
        "restore",
        snapshot,
        "--name",
        member.name,
        "--initial-cluster",
        cluster,
        "--initial-cluster-token",
        token,
        "--initial-advertise-peer-urls",
        member.peer_url,
        "--data-dir",
        data_dir,
    ]
