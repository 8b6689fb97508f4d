"""sealer status's judgement (pure): healthy and nothing pending is 0, pending 2, anything
unhealthy 3 naming what and where; a fresh set of hosts is only pending."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from sealer.facts.backup_schedule import LastSnapshot
from sealer.facts.cluster import EndpointHealth
from sealer.facts.health import Health
from sealer.facts.runtime import RuntimeStatus
from sealer.facts.status import BackupRuns, ClusterStatusFacts, HostStatusFacts
from sealer.plan.state import ClusterState
from sealer.plan.status import build_report
from tests.clusters import M, N, cluster
from tests.plan.test_diff import bare, running

EXPIRY = dt.datetime(2125, 1, 1, tzinfo=dt.UTC)
CERT = ("/etc/kubernetes/pki/apiserver.crt", EXPIRY)


def host_facts(backends: tuple[str, ...] | None = tuple(M)) -> dict[str, HostStatusFacts]:
    return {
        a: HostStatusFacts(True, "v1.29.3", backends if a in N else None, CERT) for a in [*M, *N]
    }


def healthy_cluster() -> ClusterStatusFacts:
    etcd = tuple(EndpointHealth(f"https://{m}:2379", True) for m in M)
    return ClusterStatusFacts(etcd, f"https://{M[1]}:2379", "", {m: Health(True) for m in M})


def test_a_healthy_cluster_with_nothing_pending_exits_0() -> None:
    c = cluster()
    report = build_report(c, running(c), host_facts(), healthy_cluster(), pending=0)
    assert report.problems == ()
    assert report.exit_code == 0
    data = report.to_dict()
    assert data["healthy"] is True
    assert data["pending"] == {"steps": 0, "error": None}
    first = data["hosts"][0]
    assert first["address"] == M[0] and first["role"] == "master"
    assert first["joined_as"] == "control-plane"
    assert first["versions"] == {"kubeadm": "v1.29.3", "kubelet": "v1.29.3", "package": "v1.29.3"}
    assert first["kubelet_active"] is True and first["node_ready"] is True
    assert first["earliest_certificate"] == {"path": CERT[0], "not_after": "2125-01-01T00:00:00Z"}
    node = data["hosts"][3]
    assert node["load_balancer"]["backends"] == [{"master": m, "healthy": True} for m in M]
    plane = data["control_plane"]
    assert plane["etcd"]["leader"] == f"https://{M[1]}:2379"
    assert plane["api"][M[2]] == {"ready": True, "detail": None}
    assert report.exit_code == data["exit_code"]


def test_pending_changes_exit_2() -> None:
    c = cluster()
    assert build_report(c, running(c), host_facts(), healthy_cluster(), pending=3).exit_code == 2


def test_one_masters_api_server_down_is_unhealthy_and_named() -> None:
    c = cluster()
    facts = healthy_cluster()
    down = Health(False, "The connection to the server 127.0.0.1:6443 was refused")
    facts = replace(facts, api={**facts.api, M[1]: down})
    without = tuple(m for m in M if m != M[1])
    report = build_report(c, running(c), host_facts(without), facts, pending=0)
    assert report.exit_code == 3
    assert report.problems == (
        f"{N[0]}: the load balancer does not send the VIP to {M[1]}",
        f"{N[1]}: the load balancer does not send the VIP to {M[1]}",
        f"{M[1]}: its API server is not ready (The connection to the server 127.0.0.1:6443 "
        "was refused)",
    )
    backends = report.to_dict()["hosts"][3]["load_balancer"]["backends"]
    assert {"master": M[1], "healthy": False} in backends


def test_a_container_runtime_that_does_not_answer_is_named() -> None:
    c = cluster()
    down = RuntimeStatus(False, None, "validate service connection: ... no such file")
    facts = host_facts()
    facts[N[1]] = replace(facts[N[1]], runtime=down)
    facts[N[0]] = replace(facts[N[0]], runtime=RuntimeStatus(True, True))
    report = build_report(c, running(c), facts, healthy_cluster(), pending=0)
    assert report.problems == (
        f"{N[1]}: the container runtime does not answer "
        "(validate service connection: ... no such file)",
    )
    assert report.exit_code == 3
    hosts = {h["address"]: h for h in report.to_dict()["hosts"]}
    assert hosts[N[0]]["runtime"] == {"answers": True, "network_ready": True, "detail": None}
    assert hosts[N[1]]["runtime"]["answers"] is False
    assert hosts[M[0]]["runtime"] is None  # not read


def test_fresh_hosts_are_only_pending() -> None:
    c = cluster()
    live = ClusterState({a: bare(a) for a in c.spec.all_addresses})
    # no package yet: no crictl, and that is no problem
    no_crictl = RuntimeStatus(False, None, "crictl not found on the PATH")
    facts = {a: HostStatusFacts(False, None, None, None, no_crictl) for a in c.spec.all_addresses}
    report = build_report(c, live, facts, ClusterStatusFacts(None, None, "", {}), pending=12)
    assert report.problems == ()
    assert report.exit_code == 2
    data = report.to_dict()
    assert data["control_plane"]["initialized"] is False
    assert data["control_plane"]["etcd"] is None
    assert all(h["node_ready"] is None for h in data["hosts"])


def test_an_unreachable_host_and_a_plan_that_cannot_be_made_are_unhealthy() -> None:
    c = cluster()
    live = running(c)
    live = replace(
        live,
        hosts={**live.hosts, N[0]: replace(live.hosts[N[0]], reachable=False, error="timed out")},
    )
    report = build_report(
        c, live, host_facts(), healthy_cluster(), pending=None, pending_error="cannot plan"
    )
    assert f"{N[0]}: unreachable (timed out)" in report.problems
    assert "the plan could not be made: cannot plan" in report.problems
    assert report.exit_code == 3


def test_scheduled_snapshots_on_the_masters_and_a_failed_last_run() -> None:
    c = cluster()
    taken = dt.datetime(2026, 12, 2, 3, 0, tzinfo=dt.UTC)
    facts = host_facts()
    for m in M:
        last = LastSnapshot("etcd-20261202T030000Z.db", taken) if m != M[2] else None
        facts[m] = replace(facts[m], backups=BackupRuns(last, last_run_failed=m == M[1]))
    report = build_report(c, running(c), facts, healthy_cluster(), pending=0)
    assert report.problems == (
        f"{M[1]}: the last scheduled etcd snapshot failed "
        "(`journalctl -u sealer-etcd-backup.service` on it says why)",
    )
    assert report.exit_code == 3
    hosts = {h["address"]: h for h in report.to_dict()["hosts"]}
    assert hosts[M[0]]["backups"] == {
        "last_snapshot": "etcd-20261202T030000Z.db",
        "taken": "2026-12-02T03:00:00Z",
        "last_run_failed": False,
    }
    assert hosts[M[2]]["backups"] == {  # installed, never run yet: no problem
        "last_snapshot": None,
        "taken": None,
        "last_run_failed": False,
    }
    assert hosts[N[0]]["backups"] is None  # not read on nodes
