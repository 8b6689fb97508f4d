"""The step registry: every kind has one builder, and building a step decides nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import get_args

import pytest

from sealer.engine.context import RunContext
from sealer.engine.step import step_id
from sealer.errors import PlanError
from sealer.facts.hosts import HostsEntry
from sealer.plan.diff import Plan, PlannedStep, make_plan
from sealer.plan.kinds import StepKind
from sealer.plan.payloads import (
    BackupSchedulePayload,
    CleanPayload,
    CniPayload,
    DeleteNodePayload,
    DistributePayload,
    DrainPayload,
    HostsPayload,
    IdentityPayload,
    InitPayload,
    InstallPayload,
    JoinMasterPayload,
    JoinNodePayload,
    Payload,
    PreparePayload,
    RemoveMemberPayload,
    SnapshotPayload,
    StagePayload,
    UpgradeMasterPayload,
    UpgradeNodePayload,
    UpgradeSettings,
)
from sealer.plan.state import ClusterState
from sealer.steps.base import KindStep, StepBuilder
from sealer.steps.drain import Drain
from sealer.steps.graph import apply_graph, executable
from sealer.steps.hosts import Hosts
from sealer.steps.join_master import JoinMaster
from sealer.steps.registry import BUILDERS, builders_by_kind
from tests.plan import test_diff as planner
from tests.steps.builders import (
    DOMAIN,
    GONE,
    M,
    cluster,
    hosts_entries,
    lb_payload,
    make_target,
    running,
)
from tests.steps.fake_remote import FakeRemote

ROOT = Path(__file__).resolve().parents[2]

#: One payload of every kind, with values a planner could have decided.
SAMPLES: dict[StepKind, Payload] = {
    StepKind.PREPARE: PreparePayload(True, ("br_netfilter",), ("net.ipv4.ip_forward",)),
    StepKind.DISTRIBUTE: DistributePayload(),
    StepKind.INSTALL: InstallPayload(new_copy=True),
    StepKind.HOSTS: HostsPayload(hosts_entries(M[0])),
    StepKind.IPVS: lb_payload(cluster()),
    StepKind.INIT: InitPayload(reset_half_done=True),
    StepKind.JOIN_MASTER: JoinMasterPayload(hosts_entries(M[1]), remove_etcd_member=True),
    StepKind.JOIN_NODE: JoinNodePayload(),
    StepKind.IDENTITY: IdentityPayload(in_cluster=True),
    StepKind.SNAPSHOT: SnapshotPayload(),
    StepKind.DRAIN: DrainPayload("h9"),
    StepKind.CLEAN: CleanPayload(remove_etcd_member=True),
    StepKind.REMOVE_MEMBER: RemoveMemberPayload(),
    StepKind.DELETE_NODE: DeleteNodePayload("h9"),
    StepKind.CNI: CniPayload("calico", "manifests/calico.yaml", "ab" * 32),
    StepKind.STAGE: StagePayload("v1.30.4"),
    StepKind.UPGRADE_MASTER: UpgradeMasterPayload("h2", UpgradeSettings("v1.30.4", 300), True),
    StepKind.UPGRADE_NODE: UpgradeNodePayload("h5", UpgradeSettings("v1.30.4", 300), 1, 2),
    StepKind.BACKUP_SCHEDULE: BackupSchedulePayload("daily", 7, "/var/backups/sealer-etcd"),
}


def test_every_kind_has_exactly_one_builder() -> None:
    assert set(BUILDERS) == set(StepKind)
    assert all(builder.kind is kind for kind, builder in BUILDERS.items())
    assert len({b.payload_type for b in BUILDERS.values()}) == len(StepKind)


def test_every_kind_has_exactly_one_payload_class() -> None:
    kinds = [p.kind for p in get_args(Payload)]
    assert sorted(kinds) == sorted(StepKind)
    assert set(SAMPLES) == set(StepKind)


def test_each_kind_is_built_by_a_module_of_its_own() -> None:
    """One module under sealer/steps per step kind: it owns the kind's run and its builder."""
    modules = {kind: BUILDERS[kind].make.__module__ for kind in StepKind}
    assert len(set(modules.values())) == len(StepKind), modules


def test_the_registry_cannot_be_changed() -> None:
    with pytest.raises(TypeError):
        BUILDERS[StepKind.HOSTS] = BUILDERS[StepKind.DRAIN]  # type: ignore[index]


def test_a_kind_without_a_builder_or_with_two_is_refused() -> None:
    every = list(BUILDERS.values())
    with pytest.raises(PlanError, match="no builder for the step kind"):
        builders_by_kind(b for b in every if b.kind is not StepKind.SNAPSHOT)
    with pytest.raises(PlanError, match="step kind hosts has two builders"):
        builders_by_kind([*every, StepBuilder(HostsPayload, Hosts)])


def test_a_kind_without_a_builder_stops_the_import() -> None:
    """The registry checks itself when it is imported: here a step module that forgot its
    builder (snapshot's taken away before the registry is imported)."""
    code = "import sealer.steps.snapshot as s\ns.BUILDERS = ()\nimport sealer.steps.registry\n"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode != 0
    assert "PlanError: no builder for the step kind(s) snapshot" in done.stderr


@pytest.mark.parametrize("kind", list(StepKind), ids=str)
def test_each_kind_builds_its_step_with_the_planned_payload(
    kind: StepKind, fake: FakeRemote
) -> None:
    payload = SAMPLES[kind]
    c = cluster()
    target = make_target(fake, c, running(c, gone=[GONE]))
    planned = PlannedStep(payload, M[1], "why")

    step = executable(planned, target)

    assert isinstance(step, KindStep) and type(step) is BUILDERS[kind].make
    assert step.payload is payload
    assert (step.name, step.host) == (kind.value, M[1])
    assert step_id(step) == planned.id == f"{kind.value}@{M[1]}"


def test_a_builder_refuses_another_kinds_payload(fake: FakeRemote) -> None:
    c = cluster()
    target = make_target(fake, c, running(c))
    with pytest.raises(PlanError, match="got a DrainPayload, not a HostsPayload"):
        BUILDERS[StepKind.HOSTS].build(target, M[1], DrainPayload("h3"))


def half_joined() -> tuple[Plan, ClusterState]:
    """master 3's join stopped after its Node object was registered and before etcd had its
    member: the planner decides it has not joined."""
    c = cluster()
    live = planner.running(c)
    members = tuple(m for m in live.etcd_members if m != live.hosts[M[2]].hostname)
    state = ClusterState(live.hosts, True, M[0], live.nodes, etcd_members=members)
    return make_plan(c, state, planner.PKG), state


async def test_a_half_joined_master_gets_the_hosts_block_the_planner_decided(
    fake: FakeRemote,
) -> None:
    plan, state = half_joined()
    assert state.node_at(M[2]) is not None  # "joined" by the Node object alone
    target = make_target(fake, cluster(), state)
    fake.write(M[2], "/etc/hosts", "127.0.0.1 localhost\n")

    graph = apply_graph(plan, target)

    hosts = graph.step(f"hosts@{M[2]}")
    assert isinstance(hosts, Hosts)
    assert hosts.payload.entries == (HostsEntry(M[0], (DOMAIN,)),)  # master0 until it joins
    join = graph.step(f"join-master@{M[2]}")
    assert isinstance(join, JoinMaster)
    assert join.payload.hosts_after_join == (HostsEntry(M[2], (DOMAIN,)),)  # its own, once joined
    assert (await hosts.run(RunContext())).changed
    assert f"{M[0]} {DOMAIN}".encode() in (fake.file(M[2], "/etc/hosts") or b"")


def test_the_graph_keeps_the_plans_steps_and_dependencies(fake: FakeRemote) -> None:
    c = cluster()
    plan = make_plan(
        c, ClusterState({a: planner.bare(a) for a in c.spec.all_addresses}), planner.PKG
    )
    graph = apply_graph(plan, make_target(fake, c, ClusterState(hosts={})))
    assert sorted(graph) == sorted(s.id for s in plan.steps)
    for planned in plan.steps:
        assert set(graph.dependencies(planned.id)) == set(planned.after)
        step = graph.step(planned.id)
        assert isinstance(step, KindStep) and step.payload == planned.payload


def test_the_node_to_drain_is_the_planners_not_the_live_states(fake: FakeRemote) -> None:
    """The graph reads no live state: a drain drains the node the planner named."""
    c = cluster()
    target = make_target(fake, c, running(c, gone=[GONE]))  # the live Node is named h9
    plan = Plan((PlannedStep(DrainPayload("renamed"), GONE, "gone"),))
    drain = apply_graph(plan, target).step(f"drain@{GONE}")
    assert isinstance(drain, Drain) and drain.payload.node_name == "renamed"
