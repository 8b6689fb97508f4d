"""`sealer restore -f FILE --from ARCHIVE`: put a backup's etcd snapshot back on every master."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.markup import escape

from sealer.cli.options import add_clusterfile, add_output
from sealer.cli.passphrase import add_passphrase_env, passphrase_from_env
from sealer.cli.render import Ui
from sealer.cli.session import (
    add_break_lock,
    add_connection_options,
    confirm,
    open_run_log,
    pool_options,
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
    check_archive,
    plan_restore,
    read_masters,
    run_restore,
)

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "restore",
        help="restore etcd (and missing CAs) on every master from a backup archive",
        description="Check the archive (sha256 sums, the cluster identity), show the plan and "
        "ask; then stop the control plane on every master, move the old etcd data aside "
        "(never deleted), restore the snapshot on every member with the same names and peer "
        "URLs and a new cluster token, put missing CA files back, start the control plane and "
        "wait until every master is ready, etcd has one member per master and every Node is "
        "Ready. Holds the run lock.",
    )
    add_clusterfile(parser)
    parser.add_argument(
        "--from",
        dest="archive",
        required=True,
        type=Path,
        metavar="ARCHIVE",
        help="the archive written by `sealer backup`",
    )
    add_passphrase_env(parser, "decrypt the archive")
    parser.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")
    parser.add_argument(
        "--force",
        action="store_true",
        help="restore an archive of another cluster name or uid than the hosts' (named in a "
        "warning)",
    )
    parser.add_argument("--log", metavar="FILE", help="the run log (JSON lines)")
    add_break_lock(parser)
    add_output(parser)
    add_connection_options(parser)
    parser.set_defaults(handler=run_restore_command)


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

    def emit(host: str, message: str) -> None:
        if not quiet:
            ui.err.print(f"{host}: {escape(message)}")

    async def main() -> RestoreReport | None:
        async with (
            Connections(options, recorder=open_run_log(log_path)) as conns,
            run_lock(ui, conns, cluster, args, "restore") as lock,
        ):
            views = await read_masters(conns, cluster, archive, args.connect_timeout)
            plan, warnings = plan_restore(cluster, archive, views, force=args.force)
            for message in warnings:
                warn(ui, message)
            target = ui.err if quiet else ui.out
            for line in plan.lines():
                target.print(line, markup=False)
            if not confirm(ui, f"Restore {len(views)} master(s)?", yes=args.yes):
                ui.err.print("nothing done")
                return None
            if not args.yes:
                await lock.check()
            return await run_restore(
                conns, cluster, plan, RestoreOptions(), emit, args.connect_timeout
            )

    report = run_async(main)
    if report is None:
        if ui.output == "json":
            ui.print_json({"restored": False, "log": str(log_path)})
        return 0
    if ui.output == "json":
        ui.print_json({"restored": True, **report.to_json(), "log": str(log_path)})
        return 0
    ui.out.print(
        f"restored {len(report.masters)} master(s) in {report.seconds:.1f}s: etcd has "
        f"{report.members} members, {len(report.nodes)} Nodes Ready",
        markup=False,
    )
    for host, aside in report.aside.items():
        ui.out.print(f"{host}: the old etcd data is kept in {aside}", markup=False)
    for host in report.stale_kubelets:
        warn(
            ui,
            f"{host}: its kubelet's client certificate does not verify against the "
            "restored cluster CA; clean and re-join it",
        )
    ui.err.print(f"run log: {log_path}", markup=False)
    return 0
