"""`sealer validate -f FILE`: check a Clusterfile without touching any host."""

from __future__ import annotations

import argparse
from dataclasses import asdict

from rich.markup import escape

from sealer.cli.options import add_clusterfile, add_output
from sealer.cli.render import Ui
from sealer.errors import SpecError


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "validate",
        help="check a Clusterfile (exit 0 valid, 1 invalid)",
        description="Check a Clusterfile and list every problem with file:line:column. "
        "Touches no host.",
    )
    add_clusterfile(parser)
    add_output(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, ui: Ui) -> int:
    from sealer.clusterfile import load as load_clusterfile  # not at start-up (--help)

    try:
        loaded = load_clusterfile(args.file)
    except SpecError as exc:
        if ui.output != "json":
            raise
        ui.print_json(
            {"file": args.file, "valid": False, "problems": [asdict(p) for p in exc.problems]}
        )
        return 1
    spec = loaded.cluster.spec
    if ui.output == "json":
        ui.print_json(
            {
                "file": args.file,
                "valid": True,
                "problems": [asdict(p) for p in loaded.warnings],
                "masters": spec.master_addresses,
                "nodes": spec.node_addresses,
                "version": spec.version,
            }
        )
        return 0
    for warning in loaded.warnings:
        ui.err.print(f"[yellow]warning[/yellow]: {escape(str(warning))}")
    ui.out.print(
        f"{escape(args.file)}: valid: cluster {loaded.cluster.metadata.name}, "
        f"Kubernetes {spec.version}, {len(spec.master_addresses)} master(s), "
        f"{len(spec.node_addresses)} node(s)"
    )
    return 0
