"""What apply, diff and clean share on the command line: SSH flags, the run log, progress."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

from rich.markup import escape
from rich.table import Table

from sealer.cli.render import Ui
from sealer.connect import (
    Connections,
    JsonlRunLog,
    PoolOptions,
)
from sealer.engine import RunSummary, Status
from sealer.errors import UsageError
from sealer.lock import Holder, RunLock, lock_masters, seen_locks
from sealer.plan.diff import Plan
from sealer.plan.preflight import Preflight, PreflightFailed
from sealer.relay import parse_rate
from sealer.spec import LoadedClusterfile
from sealer.spec.model import Cluster

__all__ = [
    "check_preflight",
    "confirm",
    "pool_options",
    "preflight_json",
    "print_plan",
    "print_preflight",
    "print_summary",
    "run_async",
    "run_lock",
    "run_log_path",
    "warn",
    "warn_if_locked",
]

T = TypeVar("T")


_SEVERITY = {"error": "red", "warning": "yellow"}


def print_preflight(ui: Ui, preflight: Preflight) -> None:
    """Every preflight finding, together: a table on a terminal, one line each otherwise."""
    findings = preflight.findings
    if not findings:
        return
    if ui.out.is_terminal:
        table = Table(title="preflight", title_justify="left")
        for column in ("severity", "check", "host", "problem", "fix"):
            table.add_column(column)
        for f in findings:
            colour = _SEVERITY[f.severity]
            table.add_row(
                f"[{colour}]{f.severity}[/{colour}]",
                f.check,
                escape(", ".join(f.hosts)),
                escape(f.problem),
                escape(f.fix),
            )
        ui.out.print(table)
        return
    errors = len(preflight.errors)
    ui.out.print(f"preflight: {errors} error(s), {len(findings) - errors} warning(s)")
    for f in findings:
        ui.out.print(
            f"{f.severity:>7} {f.check}: {escape(', '.join(f.hosts))}: {escape(f.problem)} "
            f"(fix: {escape(f.fix)})"
        )


def preflight_json(preflight: Preflight) -> dict[str, Any]:
    """The preflight part of ``diff``/``apply --output json`` (docs/cli.md)."""
    return {
        "errors": len(preflight.errors),
        "findings": [f.to_dict() for f in preflight.findings],
        "ignored": list(preflight.ignored),
    }


def check_preflight(ui: Ui, plan: Plan) -> None:
    """Report the findings (text output); raise :class:`PreflightFailed` when any is an error."""
    if ui.output != "json":
        print_preflight(ui, plan.preflight)
    if plan.preflight.errors:
        raise PreflightFailed(plan.preflight)


def warn(ui: Ui, message: str) -> None:
    ui.err.print(f"[yellow]warning[/yellow]: {escape(message)}")


def run_lock(
    ui: Ui,
    conns: Connections,
    cluster: Cluster,
    args: argparse.Namespace,
    command: str,
    *,
    skip_unreachable: bool = False,
) -> RunLock:
    """The run lock of ``cluster`` on its masters, for ``async with`` (sealer/lock/)."""
    return RunLock(
        conns,
        lock_masters(cluster, connect_timeout=args.connect_timeout),
        Holder.new(command, cluster.metadata.name),
        warn=lambda message: warn(ui, message),
        break_lock=args.break_lock,
        skip_unreachable=skip_unreachable,
    )


async def warn_if_locked(
    ui: Ui, conns: Connections, cluster: Cluster, args: argparse.Namespace
) -> list[str]:
    """Warn about run locks held on the masters (diff, apply --dry-run); never takes one."""
    found = await seen_locks(conns, lock_masters(cluster, connect_timeout=args.connect_timeout))
    for message in found:
        warn(ui, message)
    return found


def pool_options(args: argparse.Namespace, loaded: LoadedClusterfile) -> PoolOptions:
    """Connection settings from the flags and the Clusterfile's ``spec.ssh.knownHosts``."""
    for name in ("concurrency", "upload_concurrency"):
        if getattr(args, name) < 1:
            raise UsageError(f"--{name.replace('_', '-')} must be at least 1")
    if args.connect_timeout <= 0:
        raise UsageError("--connect-timeout must be more than 0 seconds")
    known = list(args.known_hosts) if args.known_hosts else [Path("~/.ssh/known_hosts")]
    declared = loaded.cluster.spec.ssh.known_hosts
    if declared is not None:
        path = Path(declared).expanduser()
        known.append(path if path.is_absolute() else loaded.path.parent / path)
    limit = getattr(args, "upload_limit", None)
    return PoolOptions(
        concurrency=args.concurrency,
        upload_concurrency=args.upload_concurrency,
        known_hosts=tuple(known),
        accept_new_host_keys=args.accept_new_host_keys,
        upload_limit=None if limit is None else parse_rate(limit),
    )


def run_log_path(args: argparse.Namespace, cluster_name: str, verb: str) -> Path:
    if getattr(args, "log", None):
        return Path(args.log)
    base = os.environ.get("XDG_STATE_HOME") or os.path.expanduser("~/.local/state")
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    return Path(base) / "sealer" / "runs" / f"{cluster_name}-{verb}-{stamp}.jsonl"


def open_run_log(path: Path) -> JsonlRunLog:
    return JsonlRunLog(path)


def run_async(make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine; Ctrl-C cancels it (steps stop cleanly) and is re-raised."""
    return asyncio.run(make())


def print_plan(ui: Ui, plan: Plan, *, title: str) -> None:
    """The plan as a table on a terminal, as one line per step otherwise (CI logs)."""
    if plan.empty:
        ui.out.print("No changes: every host matches the Clusterfile.")
        return
    if ui.out.is_terminal:
        table = Table(title=title, title_justify="left")
        for column in ("#", "step", "host", "why", "after"):
            table.add_column(column, justify="right" if column == "#" else "left")
        for number, step in enumerate(plan.steps, 1):
            after = escape(", ".join(step.after)) or "-"
            table.add_row(str(number), step.name, step.host or "-", escape(step.why), after)
        ui.out.print(table)
    else:
        ui.out.print(f"{title}: {len(plan.steps)} step(s)")
        width = max(len(s.id) for s in plan.steps)
        for number, step in enumerate(plan.steps, 1):
            after = f" (after {', '.join(step.after)})" if step.after else ""
            ui.out.print(f"{number:>3}. {step.id:<{width}}  {escape(step.why)}{escape(after)}")
    for warning in plan.warnings:
        ui.err.print(f"[yellow]warning[/yellow]: {escape(warning)}")


def confirm(ui: Ui, question: str, *, yes: bool) -> bool:
    """True to go on. Never waits for an answer without a terminal: refuses instead."""
    if yes:
        return True
    if not ui.interactive:
        raise UsageError(
            "no terminal to confirm on, and --yes was not given: refusing to change the hosts",
            hint="review the plan with `sealer diff`, then pass --yes",
        )
    answer = ui.err.input(f"{question} [y/N] ")
    return answer.strip().lower() in ("y", "yes")


def print_summary(ui: Ui, summary: RunSummary, log: Path) -> None:
    counts = ", ".join(f"{n} {s}" for s, n in summary.counts().items() if n)
    ui.err.print(f"{len(summary.results)} steps in {summary.elapsed:.1f}s: {counts or 'none'}")
    for result in summary.results:
        if result.name == "snapshot" and result.status == Status.CHANGED:
            ui.err.print(f"snapshot: {escape(result.reason)}")
        elif result.status == Status.CHANGED and (
            result.name == "backup-schedule"
            or (result.name == "clean" and "scheduled etcd snapshots" in result.reason)
        ):
            # where the etcd snapshots are (or stay, once the timer is removed)
            ui.err.print(f"{escape(result.id)}: {escape(result.reason)}")
    for result in summary.by_status(Status.FAILED):
        error = result.error
        ui.err.print(f"[red]failed[/red]: {result.id}: {escape(error.message if error else '')}")
        if error is not None and error.argv is not None and error.stderr:
            tail = error.stderr.strip().splitlines()[-10:]
            for line in tail:
                ui.err.print(f"    {escape(line)}")
    skipped = summary.by_status(Status.SKIPPED)
    if skipped:
        ui.err.print(
            f"[dim]skipped[/dim]: {', '.join(r.id for r in skipped)} (a step they need failed)"
        )
    ui.err.print(f"run log: {log}")
