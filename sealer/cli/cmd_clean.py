"""`sealer clean -f FILE`: give the machines back."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from rich.markup import escape

from sealer.cli.options import (
    add_break_lock,
    add_clusterfile,
    add_connection_options,
    add_verbose,
)
from sealer.cli.render import Ui
from sealer.errors import PlanError

if TYPE_CHECKING:
    from sealer.engine import RunSummary


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "clean",
        help="remove Kubernetes and everything sealer installed from every host",
        description="On every host of the Clusterfile: kubeadm reset, then remove the "
        "load balancer, the kubelet unit, /etc/kubernetes, /var/lib/etcd, CNI directories, "
        "kubeconfigs, the binaries, sealer's /etc/hosts block and the package. Nodes are "
        "cleaned together, masters one at a time with master0 last.",
    )
    add_clusterfile(parser)
    parser.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress, only the summary")
    add_verbose(parser)
    parser.add_argument("--log", metavar="FILE", help="the run log (JSON lines)")
    parser.add_argument(
        "--force",
        action="store_true",
        help="also clean hosts that record another cluster's identity (another name or uid)",
    )
    add_break_lock(parser)
    add_connection_options(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, ui: Ui) -> int:
    # Imported here, not at start-up: `sealer --version` and `--help` need none of it.
    from sealer.cli.progress import Progress, log_steps
    from sealer.cli.session import (
        confirm,
        open_run_log,
        pool_options,
        print_summary,
        run_async,
        run_lock,
        run_log_path,
    )
    from sealer.clusterfile import load as load_clusterfile
    from sealer.connect import Connections
    from sealer.engine import RunContext
    from sealer.reconcile import clean, foreign_hosts

    loaded = load_clusterfile(args.file)
    spec = loaded.cluster.spec
    hosts = ", ".join(spec.all_addresses)
    ui.err.print(
        f"This removes Kubernetes and all its data from {len(spec.all_addresses)} host(s): "
        f"{escape(hosts)}"
    )
    if not confirm(ui, "Clean these hosts?", yes=args.yes):
        ui.err.print("nothing done")
        return 0
    options = pool_options(args, loaded)
    log_path = run_log_path(args, loaded.cluster.metadata.name, "clean")
    log = open_run_log(log_path)

    async def main() -> RunSummary:
        async with Connections(options, recorder=log) as conns:
            # read-only, before the lock: hosts of another cluster are not even locked
            name = loaded.cluster.metadata.name
            foreign = await foreign_hosts(
                conns, loaded.cluster, connect_timeout=args.connect_timeout
            )
            if foreign and not args.force:
                raise PlanError(
                    f"{len(foreign)} host(s) of this Clusterfile belong to another cluster than "
                    f"{name!r}: {'; '.join(foreign)}. Nothing was cleaned. Check that this is "
                    "the right Clusterfile; to clean them all the same, add --force"
                )
            for line in foreign:
                ui.err.print(f"[yellow]warning[/yellow]: --force: cleaning {escape(line)}")
            # clean must work on half-broken machines: a master it cannot reach is not locked
            # (the clean step of that host then fails and says so)
            lock = run_lock(ui, conns, loaded.cluster, args, "clean", skip_unreachable=True)
            async with lock:
                with Progress(ui, quiet=args.quiet, verbose=args.verbose) as progress:
                    ctx = RunContext(concurrency=args.concurrency, events=progress)
                    summary = await clean(
                        conns, loaded.cluster, ctx, connect_timeout=args.connect_timeout
                    )
                log_steps(log, conns.redactor, summary)
                return summary

    summary = run_async(main)
    print_summary(ui, summary, log_path)
    return 0 if summary.succeeded else 1
