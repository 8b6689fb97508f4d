"""etcd's side of backup and restore (pure): parsers, members, the restore command."""

from __future__ import annotations

import pytest

from sealer.dr.archive import EtcdMemberRecord
from sealer.dr.etcd import (
    initial_cluster,
    parse_etcdctl_version,
    parse_snapshot_status,
    peer_url,
    restore_argv,
    restored_members,
)


def test_snapshot_status() -> None:
    status = parse_snapshot_status(
        '{"hash":3280519337,"revision":1187,"totalKey":642,"totalSize":3997696}\n'
    )
    assert (status.hash, status.revision, status.keys, status.size) == (
        3280519337, 1187, 642, 3997696)  # fmt: skip
    with pytest.raises(KeyError):
        parse_snapshot_status('{"hash": 1}')


def test_etcdctl_version() -> None:
    assert parse_etcdctl_version("etcdctl version: 3.4.23\nAPI version: 3.4\n") == "3.4.23"
    with pytest.raises(ValueError):
        parse_etcdctl_version("etcdutl version: 3.5.9\n")


def test_members_keep_their_recorded_names_and_peer_urls() -> None:
    recorded = [
        EtcdMemberRecord("old-name-a", "https://10.0.0.2:2380"),
        EtcdMemberRecord("b", "https://10.0.0.3:2380"),
        EtcdMemberRecord("gone", "https://10.0.0.9:2380"),
    ]
    members = restored_members(
        ["10.0.0.2", "10.0.0.3", "10.0.0.4"],
        {"10.0.0.2": "a", "10.0.0.3": "b", "10.0.0.4": "c"},
        recorded,
    )
    assert members == {
        "10.0.0.2": EtcdMemberRecord("old-name-a", "https://10.0.0.2:2380"),
        "10.0.0.3": EtcdMemberRecord("b", "https://10.0.0.3:2380"),
        "10.0.0.4": EtcdMemberRecord("c", "https://10.0.0.4:2380"),  # not recorded: kubeadm's
    }
    assert initial_cluster(members) == (
        "old-name-a=https://10.0.0.2:2380,b=https://10.0.0.3:2380,c=https://10.0.0.4:2380"
    )
    assert peer_url("fd00::2") == "https://[fd00::2]:2380"


def test_restore_argv() -> None:
    member = EtcdMemberRecord("a", "https://10.0.0.2:2380")
    assert restore_argv("etcdutl", "/s.db", member, "a=https://10.0.0.2:2380", "tok", "/d") == [
        "etcdutl", "snapshot", "restore", "/s.db", "--name", "a",
        "--initial-cluster", "a=https://10.0.0.2:2380", "--initial-cluster-token", "tok",
        "--initial-advertise-peer-urls", "https://10.0.0.2:2380", "--data-dir", "/d",
    ]  # fmt: skip
