"""`sealer schema`: print the Clusterfile's JSON Schema."""

from __future__ import annotations

import argparse
import sys

from sealer.cli.render import Ui


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "schema",
        help="print the Clusterfile JSON Schema",
        description="Print the JSON Schema of the Clusterfile, generated from sealer's models "
        "(the same as schemas/clusterfile.schema.json). Editors use it for completion.",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, ui: Ui) -> int:  # noqa: ARG001 (a handler's signature)
    from sealer.spec.schema import clusterfile_schema_text  # not at start-up (--help)

    sys.stdout.write(clusterfile_schema_text())
    return 0
