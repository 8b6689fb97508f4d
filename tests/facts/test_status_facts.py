"""The status facts' parsers."""

from __future__ import annotations

import json

import pytest

from sealer.connect import Result
from sealer.facts.base import UnexpectedExit
from sealer.facts.status import parse_etcd_leader, parse_lb_backends, parse_package_version

NFT = {
    "nftables": [
        {"metainfo": {"json_schema_version": 1}},
        {"table": {"family": "ip", "name": "sealer_care"}},
    ]
}


def test_package_version() -> None:
    metadata = {"version": "v1.29.3", "k8sVersion": "v1.29.3", "arch": "amd64"}
    assert parse_package_version(Result(0, json.dumps(metadata), "")) == "v1.29.3"
    missing = Result(1, "", "cat: /var/lib/sealer/package/kube/Metadata: No such file or directory")
    assert parse_package_version(missing) is None
    with pytest.raises(UnexpectedExit):
        parse_package_version(Result(1, "", "cat: permission denied"))


def test_etcd_leader_is_the_member_that_leads_itself() -> None:
    status = [
        {
            "Endpoint": f"https://10.0.0.1{i}:2379",
            "Status": {"header": {"member_id": m}, "leader": 42},
        }
        for i, m in ((1, 17), (2, 42))
    ]
    assert parse_etcd_leader(Result(0, json.dumps(status), "")) == "https://10.0.0.12:2379"
    assert parse_etcd_leader(Result(0, json.dumps(status[:1]), "")) is None
    with pytest.raises(UnexpectedExit):
        parse_etcd_leader(Result(1, "", "context deadline exceeded"))


def test_lb_backends_without_a_table_is_none() -> None:
    gone = Result(1, "", "Error: No such file or directory; list table ip sealer_care")
    assert parse_lb_backends(gone) is None
    assert parse_lb_backends(Result(0, json.dumps(NFT), "")) == ()
    with pytest.raises(UnexpectedExit):
        parse_lb_backends(Result(1, "", "Operation not permitted"))
