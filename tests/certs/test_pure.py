"""The pure parts of ``sealer certs``: SAN checks, probe and ``ss`` parsing, problems, refusal."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from sealer.certops import (
    MasterHealth,
    missing_from_cert_sans,
    normalise_san,
    parse_extra_sans,
    problems,
    refusal,
)
from sealer.connect import Result
from sealer.errors import PlanError, UsageError
from sealer.facts.health import Health, parse_probe
from sealer.facts.static_pods import STATIC_PODS, parse_listening_ports
from sealer.kube.certcheck import check_certificates
from sealer.kube.pki import ClusterCA, renew_master_leaves
from sealer.spec.model import Cluster


def cluster(**network: Any) -> Cluster:
    return Cluster.model_validate(
        {
            "apiVersion": "sealer.dev/v1alpha1",
            "kind": "Cluster",
            "metadata": {"name": "demo"},
            "spec": {
                "version": "v1.29.3",
                "masters": ["192.168.10.11", "192.168.10.12", "192.168.10.13"],
                "package": "/tmp/kube.tar.gz",
                "network": network,
            },
        }
    )


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("192.0.2.7", "192.0.2.7"),
        ("2001:DB8::0:1", "2001:db8::1"),
        ("API.Example.com", "api.example.com"),
        ("api.example.com.", "api.example.com"),
        ("*.apps.example.com", "*.apps.example.com"),
        ("localhost", "localhost"),
        ("a-b.c1", "a-b.c1"),
    ],
)
def test_a_san_is_an_ip_or_a_dns_name_normalised(given: str, expected: str) -> None:
    assert normalise_san(given) == expected


@pytest.mark.parametrize(
    "bad",
    ["", " ", "-a.example.com", "a_b.example.com", "a..b", "300.1.2.3", "1.2.3", "x" * 64,
     "a b", "http://x", "10.0.0.0/8", "*.*.example.com", "ex*.com"],
)  # fmt: skip
def test_anything_else_is_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        normalise_san(bad)


def test_add_san_values_are_deduplicated_and_every_bad_one_is_named() -> None:
    assert parse_extra_sans(["192.0.2.7", "A.example.com", "a.example.com", "192.0.2.7"]) == (
        "192.0.2.7",
        "a.example.com",
    )
    with pytest.raises(UsageError) as caught:
        parse_extra_sans(["ok.example.com", "bad_name", "999.1.1.1"])
    assert "'bad_name'" in caught.value.message
    assert "'999.1.1.1'" in caught.value.message
    assert "ok.example.com" not in caught.value.message


def test_sans_already_in_cert_sans_are_not_reported_missing() -> None:
    spec = cluster(certSANs=["K8S.example.com", "203.0.113.7"]).spec
    assert missing_from_cert_sans(spec, ["k8s.example.com", "203.0.113.7", "198.51.100.1"]) == [
        "198.51.100.1"
    ]
    assert missing_from_cert_sans(cluster().spec, ["a.example.com"]) == ["a.example.com"]


def test_listening_ports_from_ss() -> None:
    text = (
        "LISTEN 0      128       0.0.0.0:22    0.0.0.0:*\n"
        "LISTEN 0      4096    127.0.0.1:2379  0.0.0.0:*\n"
        "LISTEN 0      4096   10.200.1.2:2380  0.0.0.0:*\n"
        "LISTEN 0      4096            *:6443        *:*\n"
        "LISTEN 0      5           [::1]:10257    [::]:*\n"
        "\n"
    )
    assert parse_listening_ports(text) == {22, 2379, 2380, 6443, 10257}
    header = "State  Recv-Q Send-Q Local Address:Port Peer Address:Port\n" + text
    assert parse_listening_ports(header) == {22, 2379, 2380, 6443, 10257}
    assert parse_listening_ports("") == frozenset()
    with pytest.raises(ValueError):
        parse_listening_ports("LISTEN 0 5 nonsense peer\n")


def test_a_probe_is_its_exit_status_with_the_last_line_as_reason() -> None:
    assert parse_probe(Result(0, "ok", "")) == Health(True)
    failed = parse_probe(Result(1, "", "first\nError from server: etcd failed\n"))
    assert failed == Health(False, "Error from server: etcd failed")
    assert parse_probe(Result(7, "", "")) == Health(False, "exit status 7")
    long = parse_probe(Result(1, "", "x" * 500)).detail
    assert len(long) == 160 and long.endswith("...")


def test_renew_refuses_when_any_master_is_unhealthy() -> None:
    every = tuple(p.name for p in STATIC_PODS)
    good = MasterHealth("10.0.0.1", Health(True), Health(True), every)
    assert good.ok and refusal([good, good]) is None
    down = MasterHealth("10.0.0.2", Health(False, "connection refused"), Health(True), every)
    half = MasterHealth("10.0.0.3", Health(True), Health(True), every[1:])
    error = refusal([good, down, half])
    assert isinstance(error, PlanError)
    assert "10.0.0.2: API server not ready (connection refused)" in error.message
    assert "10.0.0.3: no static pod manifest for etcd" in error.message
    assert "10.0.0.1" not in error.message


def test_problems_name_expired_soon_ending_and_badly_signed_certificates() -> None:
    c = cluster()
    now = dt.datetime.now(dt.UTC)
    ca = ClusterCA.generate(c.spec, now=now)
    other = ClusterCA.generate(c.spec, now=now)
    files = {p: f.content for p, f in ca.to_files().items() if p.endswith(".crt")}
    leaves = renew_master_leaves(ca, c, "192.168.10.11", "m1", now=now)
    files.update({p: f.content for p, f in leaves.items() if not p.endswith(".key")})
    rows = check_certificates("192.168.10.11", files, now=now)
    assert problems(rows, hosts=["192.168.10.11"]) == []
    # a leaf from another CA with the same subject: its signature does not verify
    forged = renew_master_leaves(other, c, "192.168.10.11", "m1", now=now)
    files["pki/apiserver.crt"] = forged["pki/apiserver.crt"].content
    later = now + dt.timedelta(days=365 * 99 - 10)
    rows = check_certificates("192.168.10.11", files, now=later)
    found = {(p.severity, p.name) for p in problems(rows, hosts=["192.168.10.11", "10.9.9.9"])}
    assert ("error", "pki/apiserver.crt") in found
    assert ("warning", "pki/ca.crt") in found  # 10 days left
    assert ("warning", "-") in found  # the host without certificates
    expired = check_certificates("h", files, now=now + dt.timedelta(days=365 * 99 + 1))
    assert {p.severity for p in problems(expired)} == {"error"}
