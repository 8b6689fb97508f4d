"""`sealer diff -f FILE`: what apply would change (exit 2 when changes are pending)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from sealer.cli.options import (
    add_clusterfile,
    add_connection_options,
    add_ignore_preflight,
    add_output,
)
from sealer.cli.render import Ui

if TYPE_CHECKING:
    from sealer.reconcile import Planned

CHANGES_PENDING = 2


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "diff",
        help="show what apply would change (exit 0 nothing, 2 changes pending, 1 error)",
        description="Read the live state of every host over SSH and compare it with the "
        "Clusterfile. Changes nothing. Exit 0 when every host matches, 2 when changes are "
        "pending, 1 on error (preflight errors included: every one is listed, with its host "
        "and fix): run it in CI before merging a Clusterfile change.",
    )
    add_clusterfile(parser)
    add_ignore_preflight(parser)
    add_output(parser)
    add_connection_options(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, ui: Ui) -> int:
    # Imported here, not at start-up: `sealer --version` and `--help` need none of it.
    import asyncio

    from sealer.cli.session import (
        check_preflight,
        pool_options,
        preflight_json,
        print_plan,
        run_async,
        warn_if_locked,
    )
    from sealer.clusterfile import load as load_clusterfile
    from sealer.connect import Connections
    from sealer.reconcile import plan

    loaded = load_clusterfile(args.file)
    options = pool_options(args, loaded)

    async def main() -> tuple[Planned, list[str]]:
        async with Connections(options) as conns:
            # Another run holding the run lock is worth a warning, not a failure.
            locked, planned = await asyncio.gather(
                warn_if_locked(ui, conns, loaded.cluster, args),
                plan(
                    conns,
                    loaded.cluster,
                    connect_timeout=args.connect_timeout,
                    ignore_preflight=args.ignore_preflight,
                ),
            )
            return planned, locked

    planned, locked = run_async(main)
    if ui.output == "json":
        ui.print_json(
            {
                "cluster": loaded.cluster.metadata.name,
                "pending": not planned.plan.empty,
                "steps": [s.to_dict() for s in planned.plan.steps],
                "warnings": [*locked, *planned.plan.warnings],
                "preflight": preflight_json(planned.plan.preflight),
            }
        )
    else:
        print_plan(ui, planned.plan, title=f"sealer diff: cluster {loaded.cluster.metadata.name}")
    check_preflight(ui, planned.plan)
    return 0 if planned.plan.empty else CHANGES_PENDING
