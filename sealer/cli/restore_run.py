"""What `sealer restore` does; its options are registered in :mod:`sealer.cli.cmd_restore`.

`sealer restore -f FILE --from ARCHIVE`: put a backup's etcd snapshot back on every master."""

from __future__ import annotations

import argparse
import asyncio
from dataclasses import replace

from rich.markup import escape

from sealer.cli.passphrase import passphrase_from_env
from sealer.cli.progress import Progress
from sealer.cli.render import Ui
from sealer.cli.session import (
    confirm,
    open_run_log,
    pool_options,
    print_plan,
    print_summary,
    run_async,
    run_lock,
    run_log_path,
    warn,
)
from sealer.clusterfile import load as load_clusterfile
from sealer.connect import Connections
from sealer.dr.archive import read_archive
from sealer.dr.restore import (
    RestoreOptions,
    RestoreReport,
    all_fresh,
    archive_ca,
    archive_identity,
    check_archive,
    fresh_lines,
    masters_only,
    plan_restore,
    read_masters,
    run_restore,
    wait_nodes_ready,
)
from sealer.engine import Executor, RunContext, RunSummary
from sealer.offline_package import LocalPackage, prepare_cluster_package
from sealer.plan.diff import PlannedStep
from sealer.plan.payloads import JoinNodePayload
from sealer.reconcile import ApplyGraph, graph_for, plan, target_for

__all__ = ["run_restore_command"]


def run_restore_command(args: argparse.Namespace, ui: Ui) -> int:
    passphrase = passphrase_from_env(args)
    loaded = load_clusterfile(args.file)
    cluster = loaded.cluster
    # everything about the archive is checked before any host is touched
    archive = read_archive(args.archive, passphrase)
    for message in check_archive(cluster, archive, str(args.archive), force=args.force):
        warn(ui, message)
    options = pool_options(args, loaded)
    log_path = run_log_path(args, cluster.metadata.name, "restore")
    quiet = ui.output == "json"
    package: LocalPackage | None = None  # only fresh masters and re-joins need it
    rejoining = False  # a RunSummary returned by main is the re-join's

    def emit(host: str, message: str) -> None:
        if not quiet:
            ui.err.print(f"{host}: {escape(message)}")

    async def install_fresh(conns: Connections) -> RunSummary:
        """The control plane on fresh masters, as `apply` of the masters only would, with
        the archive's CAs and identity (the nodes are left alone)."""
        planned = await plan(
            conns,
            masters_only(cluster),
            connect_timeout=args.connect_timeout,
            package=package,
            identity=archive_identity(archive),
        )
        if not quiet:
            print_plan(ui, planned.plan, title="install the masters")
        applied = ApplyGraph.of(planned.plan, target_for(conns, planned, archive_ca(archive)))
        try:
            with Progress(ui, quiet=quiet) as progress:
                ctx = RunContext(concurrency=args.concurrency, events=progress)
                return await Executor(applied.graph, ctx).run()
        finally:  # the bootstrap token the masters joined with, as apply deletes it
            for problem in await applied.finish():
                warn(ui, problem)

    async def rejoin(conns: Connections, report: RestoreReport) -> RunSummary:
        """The nodes whose kubelet credentials do not verify against the restored CA join
        again (the join-node step with ``rejoin``), as `apply` would run it."""
        nonlocal package
        if package is None:  # a download must not block the lock's heartbeat
            package = await asyncio.to_thread(prepare_cluster_package, cluster)
        planned = await plan(conns, cluster, connect_timeout=args.connect_timeout, package=package)
        why = "its kubelet's client certificate does not verify against the restored cluster CA"
        steps = tuple(
            PlannedStep(JoinNodePayload(rejoin=True), address, why)
            for address in report.stale_names
        )
        planned = replace(planned, plan=replace(planned.plan, steps=steps))
        if not quiet:
            print_plan(ui, planned.plan, title="re-join the nodes")
        applied = await graph_for(conns, planned)
        try:
            with Progress(ui, quiet=quiet) as progress:
                ctx = RunContext(concurrency=args.concurrency, events=progress)
                return await Executor(applied.graph, ctx).run()
        finally:
            for problem in await applied.finish():
                warn(ui, problem)

    async def main() -> RestoreReport | RunSummary | None:
        nonlocal package
        async with Connections(options, recorder=open_run_log(log_path)) as conns:
            # read only, before the lock: fresh masters need the package, whose download
            # would hold up the lock's heartbeat
            views = await read_masters(conns, cluster, archive, args.connect_timeout)
            if all_fresh(views):
                package = prepare_cluster_package(cluster)
            async with run_lock(ui, conns, cluster, args, "restore") as lock:
                views = await read_masters(conns, cluster, archive, args.connect_timeout)
                target = ui.err if quiet else ui.out
                fresh = all_fresh(views) and package is not None
                if fresh:
                    lines = fresh_lines(cluster, archive)
                else:
                    restore_plan, warnings = plan_restore(cluster, archive, views, force=args.force)
                    for message in warnings:
                        warn(ui, message)
                    lines = restore_plan.lines()
                for line in lines:
                    target.print(line, markup=False)
                if not confirm(ui, f"Restore {len(views)} master(s)?", yes=args.yes):
                    ui.err.print("nothing done")
                    return None
                if not args.yes:
                    await lock.check()
                if fresh:
                    installed = await install_fresh(conns)
                    if not installed.succeeded:
                        return installed
                    views = await read_masters(conns, cluster, archive, args.connect_timeout)
                    restore_plan, _ = plan_restore(cluster, archive, views, force=args.force)
                    for line in restore_plan.lines():
                        target.print(line, markup=False)
                report = await run_restore(
                    conns, cluster, restore_plan, RestoreOptions(), emit, args.connect_timeout
                )
                if not report.stale_names:
                    return report
                nonlocal rejoining
                rejoining = True
                rejoined = await rejoin(conns, report)
                if not rejoined.succeeded:
                    return rejoined
                names = list(report.stale_names.values())
                seen = await wait_nodes_ready(conns, restore_plan, names, RestoreOptions())
                return replace(report, nodes=seen, rejoined=tuple(report.stale_names))

    report = run_async(main)
    if isinstance(report, RunSummary) and rejoining:
        if ui.output == "json":
            ui.print_json({"restored": True, "rejoin": report.to_dict(), "log": str(log_path)})
        print_summary(ui, report, log_path)
        ui.err.print(
            "etcd was restored and the control plane is healthy, but re-joining the nodes "
            "whose kubelet credentials do not verify failed: fix the cause and run restore "
            "again (it restores the snapshot again, then re-joins them)"
        )
        return 1
    if isinstance(report, RunSummary):
        if ui.output == "json":
            ui.print_json({"restored": False, "install": report.to_dict(), "log": str(log_path)})
        print_summary(ui, report, log_path)
        ui.err.print(
            "the masters could not be installed: nothing was restored; fix the cause "
            "and run restore again"
        )
        return 1
    if report is None:
        if ui.output == "json":
            ui.print_json({"restored": False, "log": str(log_path)})
        return 0
    if ui.output == "json":
        ui.print_json({"restored": True, **report.to_json(), "log": str(log_path)})
        return 0
    ui.out.print(
        f"restored {len(report.masters)} master(s) in {report.seconds:.1f}s: etcd has "
        f"{report.members} members, "
        f"{sum(1 for n in report.nodes if n.ready)} Nodes Ready",
        markup=False,
    )
    for host, aside in report.aside.items():
        ui.out.print(f"{host}: the old etcd data is kept in {aside}", markup=False)
    for host in report.rejoined:
        ui.out.print(
            f"{host}: re-joined (its kubelet's client certificate did not verify against the "
            "restored cluster CA); its Node is Ready",
            markup=False,
        )
    ui.err.print(f"run log: {log_path}", markup=False)
    return 0
