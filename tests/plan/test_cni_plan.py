"""The planner's network add-on rule: a cni step after init (joins do not wait for it), none
when the record names the package's manifest, again when the manifest changed, and a
refusal when the add-on type changes on a running cluster."""

from __future__ import annotations

import dataclasses

import pytest

from sealer.errors import PlanError
from sealer.facts.addon import AppliedAddon
from sealer.kube.addon import DesiredAddon
from sealer.plan.diff import make_plan
from sealer.plan.payloads import CniPayload
from sealer.plan.state import ClusterState
from sealer.spec.model import Cluster
from tests.clusters import M, N, cluster
from tests.plan.test_diff import PKG, bare, deps, ids, planned, running

CALICO = DesiredAddon("calico", "manifests/calico.yaml", "kind: DaemonSet\n", ("calico/node:v3",))
WITH_CALICO = dataclasses.replace(PKG, addon=CALICO)


def with_network(c: Cluster, cni: object) -> Cluster:
    data = c.model_dump(by_alias=True, exclude_none=True, mode="json")
    data["spec"]["network"]["cni"] = cni
    return Cluster.model_validate(data)


def test_a_new_cluster_applies_the_add_on_after_init_and_joins_do_not_wait() -> None:
    c = cluster()
    plan = make_plan(c, ClusterState({a: bare(a) for a in c.spec.all_addresses}), WITH_CALICO)

    step = planned(plan, f"cni@{M[0]}")
    assert step.payload == CniPayload("calico", "manifests/calico.yaml", CALICO.sha256)
    assert deps(plan, f"cni@{M[0]}") == {f"init@{M[0]}"}
    assert "not applied yet" in step.why
    for n in N:
        assert f"cni@{M[0]}" not in deps(plan, f"join-node@{n}")
    assert f"cni@{M[0]}" not in deps(plan, f"join-master@{M[1]}")


def test_the_recorded_manifest_plans_nothing_and_another_one_is_applied_again() -> None:
    c = cluster()
    same = dataclasses.replace(running(c), addon=AppliedAddon("calico", CALICO.sha256))
    assert make_plan(c, same, WITH_CALICO).steps == ()

    old = dataclasses.replace(running(c), addon=AppliedAddon("calico", "0" * 64))
    plan = make_plan(c, old, WITH_CALICO)
    assert ids(plan) == [f"cni@{M[0]}"]
    assert "the package's manifest changed" in plan.steps[0].why
    assert CALICO.sha256[:12] in plan.steps[0].why and "000000000000" in plan.steps[0].why
    assert deps(plan, f"cni@{M[0]}") == set()


def test_a_running_cluster_without_a_record_gets_the_add_on() -> None:
    c = cluster()
    plan = make_plan(c, running(c), WITH_CALICO)
    assert ids(plan) == [f"cni@{M[0]}"]


def test_none_plans_no_step() -> None:
    c = with_network(cluster(), "none")
    fresh = ClusterState({a: bare(a) for a in c.spec.all_addresses})
    assert not any(s.startswith("cni@") for s in ids(make_plan(c, fresh, PKG)))


@pytest.mark.parametrize(
    ("cni", "wanted"),
    [("flannel", "flannel"), ("none", "none"), ({"manifest": "m/x.yaml"}, "manifest m/x.yaml")],
)
def test_another_add_on_type_on_a_running_cluster_is_refused(cni: object, wanted: str) -> None:
    c = with_network(cluster(), cni)
    live = dataclasses.replace(running(c), addon=AppliedAddon("calico", "0" * 64))
    with pytest.raises(PlanError) as refused:
        make_plan(c, live, PKG)
    assert str(refused.value).startswith(
        f"spec.network.cni is {wanted}, but the cluster runs the calico network add-on "
        "(recorded in ConfigMap kube-system/sealer-cni): sealer does not change a running "
        "cluster's network add-on"
    )
