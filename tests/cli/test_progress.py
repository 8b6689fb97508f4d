"""The live view at 200 hosts: grouped by step kind with counts, the slowest hosts and the
failures; every step with --verbose; every step's result in the run log."""

from __future__ import annotations

import io
import json
from pathlib import Path

from rich.console import Console

from sealer.cli.progress import Progress, group, log_steps
from sealer.cli.render import Ui
from sealer.connect import JsonlRunLog, Redactor
from sealer.engine import ErrorInfo, Event, EventKind, RunSummary, Status, StepResult

HOSTS = [f"10.3.{i // 250}.{i % 250 + 2}" for i in range(200)]
KINDS = ("distribute", "install", "hosts", "join-node")


def terminal_ui() -> tuple[Ui, io.StringIO]:
    err = io.StringIO()
    console = Console(file=err, force_terminal=True, width=200, color_system=None)
    return Ui(out=console, err=console), err


def run_events(progress: Progress) -> None:
    for kind in KINDS:
        for host in HOSTS:
            sid = f"{kind}@{host}"
            progress(Event(EventKind.STARTED, sid, kind, host))
            if kind == "join-node" and host in HOSTS[-5:]:
                continue  # still running
            if kind == "install" and host == HOSTS[7]:
                status, message = Status.FAILED, "init.sh: exit 1"
            else:
                status, message = Status.CHANGED, "done"
            elapsed = 30.0 if (kind, host) == ("distribute", HOSTS[42]) else 1.0
            progress(Event(EventKind.FINISHED, sid, kind, host, status, elapsed, message))


def test_the_grouped_view_has_one_row_per_kind_with_counts_slowest_and_failures() -> None:
    ui, err = terminal_ui()
    progress = Progress(ui, quiet=True)
    run_events(progress)

    rows = {row.name: row for row in group(progress.rows, now=0.0)}
    assert list(rows) == list(KINDS)
    assert rows["distribute"].counts == {"changed": 200}
    assert rows["distribute"].slowest[0] == (HOSTS[42], 30.0)
    assert rows["install"].counts == {"changed": 199, "failed": 1}
    assert rows["join-node"].counts == {"changed": 195, "running": 5}

    ui.err.print(progress.grouped(now=0.0))
    text = err.getvalue()
    assert text.count("\n") < 20  # readable: a handful of lines, not 800 rows
    assert f"{HOSTS[42]} 30.0s" in text
    assert f"failed install@{HOSTS[7]}: init.sh: exit 1" in text
    assert HOSTS[100] not in text


def test_verbose_shows_every_step() -> None:
    ui, err = terminal_ui()
    progress = Progress(ui, quiet=True, verbose=True)
    run_events(progress)

    ui.err.print(progress.renderable())
    text = err.getvalue()
    for host in HOSTS:
        assert host in text
    assert text.count("join-node") == 200


def test_without_a_terminal_each_finished_step_is_one_line() -> None:
    err = io.StringIO()
    console = Console(file=err, force_terminal=False, width=200)
    progress = Progress(Ui(out=console, err=console), quiet=False)
    with progress:
        run_events(progress)
    lines = err.getvalue().splitlines()
    assert len(lines) == 4 * 200 - 5
    assert any(line.strip().startswith(f"failed install@{HOSTS[7]}") for line in lines)


def test_every_step_result_goes_to_the_run_log_redacted(tmp_path: Path) -> None:
    log = JsonlRunLog(tmp_path / "run.jsonl")
    redactor = Redactor()
    redactor.add("s3cret-token")
    installs = [
        StepResult(f"install@{h}", "install", h, Status.CHANGED, 1.0, "installed") for h in HOSTS
    ]
    failure = ErrorInfo("StepError", "kubeadm join --token s3cret-token failed")
    failed = StepResult("join-node@x", "join-node", "x", Status.FAILED, 2.0, "", failure)
    results = (*installs, failed)
    log_steps(log, redactor, RunSummary(results, 3.0))

    records = [json.loads(line) for line in log.path.read_text().splitlines()]
    assert len(records) == 201
    assert {r["kind"] for r in records} == {"step"}
    assert records[0]["extra"] == {
        "step": f"install@{HOSTS[0]}",
        "status": "changed",
        "reason": "installed",
    }
    assert records[-1]["error"] == "kubeadm join --token *** failed"
    assert "s3cret-token" not in log.path.read_text()
