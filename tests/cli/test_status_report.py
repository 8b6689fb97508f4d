"""`sealer status`'s text: the hosts' table, the API per master, etcd with its leader, the
lock, the pending steps and every problem."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import replace

from rich.console import Console

from sealer.cli.render import Ui
from sealer.cli.status_run import print_report
from sealer.facts.backup_schedule import LastSnapshot
from sealer.facts.health import Health
from sealer.facts.status import BackupRuns
from sealer.plan.status import build_report
from tests.clusters import M, cluster
from tests.plan.test_diff import running
from tests.plan.test_status import healthy_cluster, host_facts


def text(report_args: dict[str, object]) -> str:
    out = io.StringIO()
    console = Console(file=out, no_color=True, width=200)
    print_report(Ui(console, console), build_report(**report_args))  # type: ignore[arg-type]
    return out.getvalue()


def test_a_healthy_cluster_then_one_api_server_down() -> None:
    c = cluster()
    args: dict[str, object] = {
        "cluster": c,
        "live": running(c),
        "host_facts": host_facts(),
        "cluster_facts": healthy_cluster(),
        "pending": 0,
    }
    shown = text(args).splitlines()
    assert any(line.startswith("│ 10.9.0.2") and "master (control-plane)" in line for line in shown)
    assert f"API via {M[1]}: yes" in shown
    assert any(
        line.startswith("etcd: ") and f"https://{M[1]}:2379 (leader)" in line for line in shown
    )
    assert "run lock: free" in shown
    assert "pending: 0 step(s) (`sealer diff` shows them)" in shown
    assert shown[-1] == "healthy"
    facts = healthy_cluster()
    args["cluster_facts"] = replace(facts, api={**facts.api, M[2]: Health(False, "refused")})
    shown = text(args).splitlines()
    assert f"API via {M[2]}: no (refused)" in shown
    assert f"unhealthy: {M[2]}: its API server is not ready (refused)" in shown
    assert "healthy" not in shown


def test_the_last_scheduled_snapshot_column_only_with_spec_backup() -> None:
    c = cluster()
    facts = host_facts()
    args: dict[str, object] = {
        "cluster": c,
        "live": running(c),
        "host_facts": facts,
        "cluster_facts": healthy_cluster(),
        "pending": 0,
    }
    assert "last scheduled snapshot" not in text(args)
    taken = dt.datetime(2026, 12, 2, 3, 0, tzinfo=dt.UTC)
    args["host_facts"] = {
        **facts,
        M[0]: replace(facts[M[0]], backups=BackupRuns(LastSnapshot("etcd-x.db", taken), False)),
        M[1]: replace(facts[M[1]], backups=BackupRuns(None, True)),
    }
    shown = text(args)
    assert "last scheduled snapshot" in shown
    last_cells = {  # host -> its row's last cell (one line each at this width)
        line.split()[1]: line.split("│")[-2].strip()
        for line in shown.splitlines()
        if line.startswith("│ 10.")
    }
    assert last_cells[M[0]] == "2026-12-02T03:00:00Z"
    assert last_cells[M[1]] == "none yet (last run failed)"
    assert last_cells[M[2]] == "-"
