"""The relay tree (pure): one copy from the workstation, then hosts serve hosts, breadth first;
hosts holding a verified copy serve first; direct when asked or when few hosts need a copy."""

from __future__ import annotations

from typing import Any

import pytest

from sealer.plan.diff import make_plan
from sealer.plan.payloads import DistributePayload
from sealer.plan.relay import AUTO_RELAY_FROM, Source, relay_sources, uses_relay
from sealer.plan.state import ClusterState
from sealer.spec.model import Cluster
from tests.clusters import M, N
from tests.plan.test_diff import PKG, bare, deps, planned, running

HOSTS = [f"10.1.0.{i}" for i in range(2, 52)]  # 1 + 49


def depth(sources: dict[str, Source], host: str) -> int:
    source = sources[host].host
    return 0 if source is None else 1 + depth(sources, source)


def test_one_copy_from_the_workstation_then_hosts_serve_hosts_breadth_first() -> None:
    sources = dict(relay_sources(HOSTS, [], fanout=4, relay=True))

    assert [h for h, s in sources.items() if s.host is None] == [HOSTS[0]]
    served: dict[str, int] = {}
    for position, host in enumerate(HOSTS[1:], start=1):
        source = sources[host]
        assert source.host is not None and source.copying
        assert HOSTS.index(source.host) < position  # the source comes first
        served[source.host] = served.get(source.host, 0) + 1
    assert max(served.values()) == 4
    # 1 + 4 + 16 + 64 >= 50: four levels below the first copy at most
    assert max(depth(sources, h) for h in HOSTS) == 3


def test_hosts_holding_a_verified_copy_serve_and_the_workstation_sends_none() -> None:
    holders = HOSTS[:2]
    new = [f"10.2.0.{i}" for i in range(2, 12)]
    sources = relay_sources(new, holders, fanout=3, relay=True)

    assert all(s.host is not None for s in sources.values())
    assert [sources[h] for h in new[:3]] == [Source(holders[0], copying=False)] * 3
    assert [sources[h] for h in new[3:6]] == [Source(holders[1], copying=False)] * 3
    assert sources[new[6]] == Source(new[0], copying=True)


def test_a_holder_that_needs_only_the_install_copies_nothing() -> None:
    sources = relay_sources(HOSTS[:3], HOSTS[:1], fanout=4, relay=True)
    assert sources[HOSTS[0]] == Source(None)
    assert sources[HOSTS[1]] == Source(HOSTS[0], copying=False)


def test_direct_gets_every_copy_from_the_workstation() -> None:
    sources = relay_sources(HOSTS, HOSTS[:1], fanout=4, relay=False)
    assert set(sources.values()) == {Source(None)}


@pytest.mark.parametrize(
    ("distribution", "needing", "relay"),
    [
        ("auto", AUTO_RELAY_FROM - 1, False),
        ("auto", AUTO_RELAY_FROM, True),
        ("direct", 500, False),
        ("relay", 1, True),
    ],
)
def test_auto_relays_from_a_few_hosts(distribution: str, needing: int, relay: bool) -> None:
    assert uses_relay(distribution, needing) is relay


def cluster_with(package: dict[str, Any], masters: list[str] = M, nodes: list[str] = N) -> Cluster:
    return Cluster.model_validate(
        {
            "apiVersion": "sealer.dev/v1alpha1",
            "kind": "Cluster",
            "metadata": {"name": "t"},
            "spec": {
                "version": "v1.29.3",
                "masters": masters,
                "nodes": nodes,
                "package": {"source": "/tmp/kube.tar.gz", **package},
                "ssh": {"privateKey": "/k"},
                "certificates": {"keyAlgorithm": "ecdsa-p256"},
            },
        }
    )


def test_the_plan_shows_each_copys_source_and_waits_for_it() -> None:
    c = cluster_with({"fanout": 2})
    plan = make_plan(c, ClusterState({a: bare(a) for a in c.spec.all_addresses}), PKG)

    first = planned(plan, f"distribute@{M[0]}")
    assert first.payload == DistributePayload(None)
    assert first.why.endswith("; copy from the workstation")
    assert deps(plan, f"distribute@{M[0]}") == set()
    for host, source in ((M[1], M[0]), (M[2], M[0]), (N[0], M[1]), (N[1], M[1])):
        step = planned(plan, f"distribute@{host}")
        assert step.payload == DistributePayload(source)
        assert step.why.endswith(f"; copy from {source} (relay)")
        assert deps(plan, f"distribute@{host}") == {f"distribute@{source}"}


def test_distribution_direct_plans_no_relay() -> None:
    c = cluster_with({"distribution": "direct"})
    plan = make_plan(c, ClusterState({a: bare(a) for a in c.spec.all_addresses}), PKG)
    for host in c.spec.all_addresses:
        assert planned(plan, f"distribute@{host}").payload == DistributePayload(None)
        assert deps(plan, f"distribute@{host}") == set()


def test_new_nodes_copy_from_the_running_hosts_not_from_the_workstation() -> None:
    new = ["10.9.0.7", "10.9.0.8", "10.9.0.9", "10.9.0.10"]
    c = cluster_with({}, nodes=[*N, *new])
    before = cluster_with({})
    live = running(before)
    hosts = {**live.hosts, **{a: bare(a) for a in new}}
    state = ClusterState(
        hosts,
        initialized=True,
        api_host=M[0],
        nodes=live.nodes,
        etcd_members=live.etcd_members,
        identity=live.identity,
        identity_in_cluster=True,
    )
    plan = make_plan(c, state, PKG)
    for host in new:
        step = planned(plan, f"distribute@{host}")
        assert step.payload.source in c.spec.master_addresses  # type: ignore[union-attr]
        assert deps(plan, f"distribute@{host}") == set()  # the source holds its copy already
