"""A change of spec.version on a running cluster: refusals, order, batches, resume (pure)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from sealer.errors import PlanError
from sealer.offline_package import LocalPackage
from sealer.plan.diff import make_plan
from sealer.plan.payloads import UpgradeMasterPayload, UpgradeNodePayload
from sealer.plan.state import ClusterState
from sealer.plan.upgrade import version_refusal
from sealer.spec.model import Cluster
from tests.clusters import VERSION, M, N, cluster
from tests.plan.test_diff import deps, ids, planned, running

NEW = "v1.30.4"
PKG = LocalPackage(Path("/tmp/kube.tar.gz"), "kube1.30.4.tar.gz", "b" * 64, 1, NEW, "amd64")
MORE = ["10.9.0.7", "10.9.0.8", "10.9.0.10", "10.9.0.11"]


def wanting(c: Cluster, version: str = NEW, **upgrade: Any) -> Cluster:
    spec = {**c.spec.model_dump(by_alias=True), "version": version}
    if upgrade:
        spec["upgrade"] = upgrade
    return Cluster.model_validate({**c.model_dump(by_alias=True), "spec": spec})


def with_nodes(live: ClusterState, **changes: dict[str, Any]) -> ClusterState:
    """``live`` with the Nodes at the given addresses changed (fields of LiveNode)."""
    nodes = tuple(replace(n, **changes.get(n.address, {})) for n in live.nodes)
    return replace(live, nodes=nodes)


def at(live: ClusterState, address: str, version: str) -> ClusterState:
    """One host fully at ``version``: its kubelet and its kubeadm."""
    hosts = dict(live.hosts)
    hosts[address] = replace(hosts[address], kubeadm_version=version, package_sha256=PKG.sha256)
    return with_nodes(replace(live, hosts=hosts), **{address: {"version": version}})


def test_a_version_change_is_a_rolling_upgrade_in_order() -> None:
    c = cluster()
    plan = make_plan(wanting(c), running(c), PKG)
    masters = [f"upgrade-master@{m}" for m in M]
    nodes = [f"upgrade-node@{n}" for n in N]
    assert set(ids(plan)) == {
        f"snapshot@{M[0]}",
        *(f"stage@{a}" for a in [*M, *N]),
        *masters,
        *nodes,
    }
    # staging needs nothing; master0 first after the snapshot, then one master at a time
    assert all(deps(plan, f"stage@{a}") == set() for a in [*M, *N])
    assert deps(plan, masters[0]) == {f"snapshot@{M[0]}", f"stage@{M[0]}"}
    assert deps(plan, masters[1]) == {masters[0], f"stage@{M[1]}"}
    assert deps(plan, masters[2]) == {masters[1], f"stage@{M[2]}"}
    first = planned(plan, masters[0]).payload
    assert isinstance(first, UpgradeMasterPayload) and first.first
    assert first.settings.version == NEW and first.settings.drain_seconds == 300
    other = planned(plan, masters[1]).payload
    assert isinstance(other, UpgradeMasterPayload) and not other.first
    # nodes one at a time by default (maxUnavailable 1), after the last master
    assert deps(plan, nodes[0]) == {masters[2], f"stage@{N[0]}"}
    assert deps(plan, nodes[1]) == {nodes[0], f"stage@{N[1]}"}
    shown = planned(plan, nodes[1])
    assert shown.why.startswith(f"{VERSION} -> {NEW} (batch 2 of 2")
    assert shown.to_dict()["flags"] == ["batch-2-of-2"]
    # nothing else: no distribute (it would run init.sh over the running binaries)
    assert not any(s.name in ("distribute", "hosts", "ipvs") for s in plan.steps)


def test_nodes_go_in_batches_of_max_unavailable() -> None:
    c = cluster(nodes=[*N, *MORE])
    plan = make_plan(wanting(c, maxUnavailable="50%", drainTimeout="2m"), running(c), PKG)
    workers = [*N, *MORE]
    batch = {
        s.host: s.payload.batch for s in plan.steps if isinstance(s.payload, UpgradeNodePayload)
    }
    assert batch == dict(zip(workers, [1, 1, 1, 2, 2, 2], strict=True))
    assert deps(plan, f"upgrade-node@{MORE[0]}") == {f"upgrade-master@{M[2]}", f"stage@{MORE[0]}"}
    assert deps(plan, f"upgrade-node@{MORE[2]}") == {
        *(f"upgrade-node@{a}" for a in workers[:3]),
        f"stage@{MORE[2]}",
    }
    payload = planned(plan, f"upgrade-node@{MORE[2]}").payload
    assert isinstance(payload, UpgradeNodePayload) and payload.settings.drain_seconds == 120
    two = make_plan(wanting(c, maxUnavailable=4), running(c), PKG)
    assert [s.payload.batch for s in two.steps if isinstance(s.payload, UpgradeNodePayload)] == [
        1, 1, 1, 1, 2, 2,
    ]  # fmt: skip


def test_resume_skips_hosts_at_the_new_version_and_finishes_the_cordoned_one() -> None:
    c = cluster()
    live = running(c)
    for a in [*M, N[0]]:
        live = at(live, a, NEW)
    # N[0] was left cordoned by a run that stopped after its kubelet came back
    live = with_nodes(live, **{N[0]: {"unschedulable": True, "upgrading_to": NEW}})
    plan = make_plan(wanting(c), live, PKG)
    assert set(ids(plan)) == {
        f"snapshot@{M[0]}",
        f"stage@{N[0]}",
        f"stage@{N[1]}",
        f"upgrade-node@{N[0]}",
        f"upgrade-node@{N[1]}",
    }
    assert planned(plan, f"upgrade-node@{N[0]}").why.startswith(f"{NEW} -> {NEW}")
    # everything at the new version and uncordoned: nothing to do
    live = with_nodes(at(live, N[1], NEW), **{N[0]: {"unschedulable": False, "upgrading_to": ""}})
    assert make_plan(wanting(c), live, PKG).empty
    # a host whose kubeadm on disk is new but whose kubelet is not yet is still upgraded
    hosts = dict(running(c).hosts)
    hosts[M[1]] = replace(hosts[M[1]], kubeadm_version=NEW)
    plan = make_plan(wanting(c), at(replace(running(c), hosts=hosts), M[0], NEW), PKG)
    assert f"upgrade-master@{M[1]}" in ids(plan) and f"upgrade-master@{M[0]}" not in ids(plan)
    second = planned(plan, f"upgrade-master@{M[1]}").payload
    assert isinstance(second, UpgradeMasterPayload) and not second.first


def test_skip_and_downgrade_are_refused_naming_what_to_do() -> None:
    c = cluster()
    with pytest.raises(PlanError) as skip:
        make_plan(wanting(c, "v1.31.0"), running(c), PKG)
    assert str(skip.value) == (
        "the cluster runs v1.29.3 and the Clusterfile asks for v1.31.0: kubeadm upgrades one "
        "minor version at a time. Apply v1.30.x first (the newest v1.30 patch, with its "
        "package), then v1.31.0"
    )
    with pytest.raises(PlanError) as down:
        make_plan(wanting(c, "v1.28.9"), running(c), PKG)
    assert str(down.value) == (
        "the cluster runs v1.29.3 and the Clusterfile asks for v1.28.9: that is a downgrade, "
        "which kubeadm does not do. Put version: v1.29.3 (and its package) back in the "
        "Clusterfile"
    )
    # a patch downgrade too, and from the newest version a half-done upgrade reached
    half = at(running(c), M[0], NEW)
    with pytest.raises(PlanError, match=r"asks for v1\.30\.1: that is a downgrade"):
        make_plan(wanting(c, "v1.30.1"), half, PKG)
    assert version_refusal(["v1.29.3", "v1.30.4"], "v1.30.4") is None
    assert version_refusal(["v1.29.3"], "v1.29.9") is None
    assert "across major versions" in (version_refusal(["v1.29.3"], "v2.0.0") or "")


def test_an_unhealthy_cluster_is_refused_before_anything_changes() -> None:
    c = cluster()
    not_ready = with_nodes(running(c), **{M[1]: {"ready": False}})
    with pytest.raises(
        PlanError, match=r"not healthy enough .* master h3 \(10.9.0.3\) is not Ready"
    ):
        make_plan(wanting(c), not_ready, PKG)
    unread = replace(running(c), unread={M[2]: "etcd: context deadline exceeded"})
    with pytest.raises(PlanError, match=r"10\.9\.0\.4: etcd: context deadline exceeded"):
        make_plan(wanting(c), unread, PKG)
    both = with_nodes(running(c), **{N[0]: {"ready": False}, N[1]: {"ready": False}})
    with pytest.raises(PlanError, match=r"2 nodes are NotReady .* more than the 1"):
        make_plan(wanting(c), both, PKG)
    # within the budget: allowed
    assert not make_plan(wanting(c, maxUnavailable=2), both, PKG).empty


def test_an_upgrade_does_not_mix_with_adding_or_removing_hosts() -> None:
    c = cluster()
    bigger = cluster(nodes=[*N, MORE[0]])
    live = running(c)
    hosts = {**live.hosts, MORE[0]: replace(live.hosts[N[0]], address=MORE[0])}
    with pytest.raises(PlanError, match=f"also adds {MORE[0]}: sealer does one at a time"):
        make_plan(wanting(bigger), replace(live, hosts=hosts), PKG)
    with pytest.raises(PlanError, match="also removes h6"):
        make_plan(wanting(cluster(nodes=N[:1])), live, PKG)


def test_skip_drain_reaches_every_upgrade_step() -> None:
    c = cluster()
    plan = make_plan(wanting(c), running(c), PKG, skip_drain=True)
    settings = [
        s.payload.settings
        for s in plan.steps
        if isinstance(s.payload, UpgradeMasterPayload | UpgradeNodePayload)
    ]
    assert len(settings) == 5 and all(x.skip_drain for x in settings)
