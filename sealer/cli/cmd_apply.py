"""`sealer apply -f FILE`: make the machines match the Clusterfile."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from sealer.cli.options import (
    add_break_lock,
    add_clusterfile,
    add_connection_options,
    add_ignore_preflight,
    add_output,
    add_upload_limit,
    add_verbose,
)
from sealer.cli.render import Ui

if TYPE_CHECKING:
    from sealer.engine import RunSummary
    from sealer.lock import RunLock
    from sealer.spec.model import Cluster


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "apply",
        help="make the machines match the Clusterfile",
        description="Read every host, plan the steps that bring them to the Clusterfile, show "
        "the plan, and (after confirmation, or with --yes) carry it out as a dependency graph, "
        "in parallel where the dependencies allow. Preflight errors on any host (all listed "
        "together) stop it before it changes anything. Re-applying an unchanged file changes "
        "nothing.",
    )
    add_clusterfile(parser)
    parser.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")
    parser.add_argument("--dry-run", action="store_true", help="print the steps in order and stop")
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress, only the summary")
    add_verbose(parser)
    parser.add_argument("--log", metavar="FILE", help="the run log (JSON lines)")
    parser.add_argument(
        "--skip-drain",
        action="store_true",
        help="an upgrade cordons each host without draining it (clusters without workloads)",
    )
    add_break_lock(parser)
    add_ignore_preflight(parser)
    add_output(parser)
    add_connection_options(parser)
    add_upload_limit(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, ui: Ui) -> int:
    # Imported here, not at start-up: `sealer --version` and `--help` need none of it.
    import asyncio

    from sealer.cli.progress import Progress, log_steps
    from sealer.cli.session import (
        check_preflight,
        confirm,
        open_run_log,
        pool_options,
        preflight_json,
        print_plan,
        print_summary,
        run_async,
        run_lock,
        run_log_path,
        warn,
        warn_if_locked,
    )
    from sealer.clusterfile import load as load_clusterfile
    from sealer.connect import Connections
    from sealer.engine import Executor, RunContext
    from sealer.offline_package import prepare_cluster_package
    from sealer.reconcile import graph_for, plan, target_for
    from sealer.steps.graph import apply_graph

    loaded = load_clusterfile(args.file)
    for warning in loaded.warnings:
        ui.err.print(f"[yellow]warning[/yellow]: {warning}")
    options = pool_options(args, loaded)
    log_path = run_log_path(args, loaded.cluster.metadata.name, "apply")
    log = open_run_log(log_path)

    cluster = loaded.cluster
    # Before the run lock: a download blocks the event loop, and so the lock's heartbeat.
    package = prepare_cluster_package(cluster)

    async def carry_out(conns: Connections, lock: RunLock | None) -> RunSummary | None:
        planned = await plan(
            conns,
            cluster,
            connect_timeout=args.connect_timeout,
            package=package,
            ignore_preflight=args.ignore_preflight,
            skip_drain=args.skip_drain,
        )
        if ui.output == "json" and planned.plan.preflight.errors:
            ui.print_json(
                {
                    "steps": [],
                    "succeeded": False,
                    "preflight": preflight_json(planned.plan.preflight),
                }
            )
        check_preflight(ui, planned.plan)  # before any change: errors stop the run here
        if ui.output != "json":
            print_plan(ui, planned.plan, title=f"sealer apply: {cluster.metadata.name}")
        if planned.plan.empty:
            return None
        if args.dry_run:
            graph = apply_graph(
                planned.plan, target_for(conns, planned, None, options.upload_limit)
            )
            ui.out.print("dry run: the step graph, in the order it would run; nothing was changed")
            ui.out.print("\n".join(graph.plan_lines()))
            return None
        if not confirm(ui, f"Carry out these {len(planned.plan.steps)} steps?", yes=args.yes):
            ui.err.print("nothing done")
            return None
        if lock is not None and not args.yes:
            await lock.check()  # the prompt held up the heartbeat: is the lock still ours?
        applying = await graph_for(conns, planned, options.upload_limit)
        quiet = args.quiet or ui.output == "json"
        try:
            with Progress(ui, quiet=quiet, verbose=args.verbose) as progress:
                ctx = RunContext(concurrency=args.concurrency, events=progress)
                executor = Executor(applying.graph, ctx)
                try:
                    summary = await executor.run()
                except asyncio.CancelledError:
                    if executor.summary is not None:
                        log_steps(log, conns.redactor, executor.summary)
                        print_summary(ui, executor.summary, log_path)
                    raise
        finally:
            for problem in await applying.finish():
                warn(ui, f"could not delete the run's join credentials: {problem}")
        log_steps(log, conns.redactor, summary)
        return summary

    async def main() -> RunSummary | None:
        async with Connections(options, recorder=log) as conns:
            if args.dry_run:  # changes nothing: only says when another run holds the lock
                await warn_if_locked(ui, conns, cluster, args)
                return await carry_out(conns, None)
            async with run_lock(ui, conns, cluster, args, "apply") as lock:
                return await carry_out(conns, lock)

    summary = run_async(main)
    if summary is None:
        if ui.output == "json":
            ui.print_json({"steps": [], "succeeded": True, "log": str(log_path)})
        _no_network_notice(ui, cluster, args.dry_run)
        return 0
    if ui.output == "json":
        ui.print_json({**summary.to_dict(), "log": str(log_path)})
    print_summary(ui, summary, Path(log_path))
    _no_network_notice(ui, cluster, args.dry_run)
    return 0 if summary.succeeded else 1


def _no_network_notice(ui: Ui, cluster: Cluster, dry_run: bool) -> None:
    """With ``cni: none`` the nodes wait for a network add-on the user installs: say so."""
    if cluster.spec.network.cni != "none" or dry_run:
        return
    ui.err.print(
        "[yellow]warning[/yellow]: spec.network.cni is none: sealer installed no network "
        "add-on, so every node stays NotReady (NetworkPluginNotReady) until you install one"
    )
