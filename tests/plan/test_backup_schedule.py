"""spec.backup in the plan: a backup-schedule step on each master whose files or timer differ
from the Clusterfile, after that master's own init or join; nothing when in shape; removal
when spec.backup is gone."""

from __future__ import annotations

from dataclasses import replace

from sealer.etcd_backup.render import wanted_digests
from sealer.facts.backup_schedule import BackupSchedule
from sealer.layout import BACKUP_SERVICE_PATH
from sealer.plan.diff import make_plan
from sealer.plan.payloads import BackupSchedulePayload
from sealer.plan.state import ClusterState
from sealer.spec.model import Backup, Cluster
from tests.clusters import M, cluster
from tests.plan.test_diff import PKG, bare, deps, ids, planned, running

DAILY = Backup(schedule="daily", keep=7, dir="/var/backups/sealer-etcd")


def with_backup(c: Cluster, backup: Backup | None) -> Cluster:
    return c.model_copy(update={"spec": c.spec.model_copy(update={"backup": backup})})


def scheduled(live: ClusterState, backup: Backup, **change: object) -> ClusterState:
    """Every master holds ``backup``'s files, its timer enabled and active (``change``
    overrides BackupSchedule's fields)."""
    state = BackupSchedule(wanted_digests(backup.schedule, backup.dir, backup.keep), True, True)
    state = replace(state, **change)  # type: ignore[arg-type]
    hosts = {a: replace(h, backup=state) if a in M else h for a, h in live.hosts.items()}
    return replace(live, hosts=hosts)


def backup_steps(c: Cluster, live: ClusterState) -> list[str]:
    return [s for s in ids(make_plan(c, live, PKG)) if s.startswith("backup-schedule@")]


def test_a_new_cluster_schedules_after_each_masters_own_init_or_join() -> None:
    c = with_backup(cluster(), DAILY)
    live = ClusterState({a: bare(a) for a in c.spec.all_addresses})
    plan = make_plan(c, live, PKG)
    assert backup_steps(c, live) == [f"backup-schedule@{m}" for m in M]
    assert f"init@{M[0]}" in deps(plan, f"backup-schedule@{M[0]}")
    assert f"join-master@{M[1]}" in deps(plan, f"backup-schedule@{M[1]}")
    assert f"join-master@{M[2]}" in deps(plan, f"backup-schedule@{M[2]}")
    step = planned(plan, f"backup-schedule@{M[1]}")
    assert step.payload == BackupSchedulePayload("daily", 7, "/var/backups/sealer-etcd")
    assert step.why == (
        "scheduled etcd snapshots not installed (spec.backup: daily, newest 7 kept in "
        "/var/backups/sealer-etcd)"
    )


def test_installed_and_active_plans_nothing() -> None:
    c = with_backup(cluster(), DAILY)
    assert make_plan(c, scheduled(running(c), DAILY), PKG).steps == ()


def test_a_changed_keep_rewrites_the_service_and_a_stopped_timer_is_started() -> None:
    c = with_backup(cluster(), DAILY.model_copy(update={"keep": 3}))
    plan = make_plan(c, scheduled(running(c), DAILY), PKG)
    assert ids(plan) == [f"backup-schedule@{m}" for m in M]
    assert "service out of date" in planned(plan, f"backup-schedule@{M[0]}").why
    assert planned(plan, f"backup-schedule@{M[0]}").payload.keep == 3  # type: ignore[union-attr]
    c = with_backup(cluster(), DAILY)
    plan = make_plan(c, scheduled(running(c), DAILY, active=False), PKG)
    assert planned(plan, f"backup-schedule@{M[2]}").why == (
        "the scheduled-snapshot timer is not enabled and active"
    )


def test_removing_spec_backup_removes_the_timer_where_it_is_installed() -> None:
    c = with_backup(cluster(), None)
    live = scheduled(running(c), DAILY)
    plan = make_plan(c, live, PKG)
    assert ids(plan) == [f"backup-schedule@{m}" for m in M]
    step = planned(plan, f"backup-schedule@{M[0]}")
    assert step.payload == BackupSchedulePayload(None)
    assert step.payload.flags == ("remove",)
    assert "the snapshots stay" in step.why
    # a half-removed install (only the service left, timer gone) is removed too
    half = scheduled(running(c), DAILY, files={BACKUP_SERVICE_PATH: "x"}, enabled=False)
    half = replace(half, hosts={**half.hosts, M[1]: replace(half.hosts[M[1]], backup=None)})
    assert backup_steps(c, half) == [f"backup-schedule@{M[0]}", f"backup-schedule@{M[2]}"]
    # never installed, not wanted: nothing
    assert backup_steps(c, running(c)) == []
