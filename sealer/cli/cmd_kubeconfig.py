"""`sealer kubeconfig -f FILE`: a kubeconfig that works from this machine."""

from __future__ import annotations

import argparse
from pathlib import Path

from sealer.cli.options import add_clusterfile, add_connection_options
from sealer.cli.render import Ui

__all__ = ["register"]

DEFAULT_TTL = "24h"


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "kubeconfig",
        help="print a kubeconfig for this machine (admin, or a short-lived user)",
        description="Print a kubeconfig whose server is the first ready master's address (or "
        "--server), after checking that the API server certificate covers it. By default it "
        "holds the cluster's admin credentials; with --user, a new client certificate for that "
        "user (and --group groups) signed by the cluster CA, valid --ttl. Nothing is written "
        "to disk unless -o FILE is given (then mode 0600).",
    )
    add_clusterfile(parser)
    parser.add_argument("--server", metavar="URL", help="the API server URL to put in it")
    parser.add_argument("--user", metavar="NAME", help="issue a client certificate for NAME")
    parser.add_argument(
        "--group",
        action="append",
        default=[],
        metavar="G",
        help="a group of --user (repeatable; the certificate's organisations)",
    )
    parser.add_argument(
        "--ttl",
        metavar="DURATION",
        help=f"how long --user's certificate is valid (default {DEFAULT_TTL}; s, m, h, d; "
        "at most 7d)",
    )
    parser.add_argument(
        "-o",
        dest="output_file",
        type=Path,
        metavar="FILE",
        help="write it to FILE (0600) instead of standard output",
    )
    add_connection_options(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, ui: Ui) -> int:
    # Imported here, not at start-up: `sealer --version` and `--help` need none of it.
    from sealer.cli.kubeconfig_run import run_kubeconfig

    return run_kubeconfig(args, ui)
