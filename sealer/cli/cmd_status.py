"""`sealer status -f FILE [--output json] [--watch [SECONDS]]`: the cluster at a glance.

Read-only: what ``diff`` reads (every host, the cluster through the master that serves it, the
plan) plus each host's kubelet, package, load-balancer rules and certificates, etcd's health
and leader, every master's own API server and the run lock. Exit 0 when everything is healthy
and nothing is pending, 2 when changes are pending, 3 when something is unhealthy.
"""

from __future__ import annotations

import argparse

from sealer.cli.options import add_clusterfile, add_connection_options, add_output
from sealer.cli.render import Ui

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "status",
        help="the whole cluster at a glance (exit 0 healthy, 2 changes pending, 3 unhealthy)",
        description="Read every host and the cluster over SSH and show, per host, whether it "
        "answers, its role, versions, kubelet, Node, load balancer and earliest certificate "
        "expiry, and per cluster etcd's members, health and leader, the API through every "
        "master, the run lock and how many steps `diff` would run. Changes nothing. Exit 0 "
        "when everything is healthy and nothing is pending, 2 when changes are pending, 3 when "
        "something is unhealthy, 1 on error.",
    )
    add_clusterfile(parser)
    add_output(parser)
    parser.add_argument(
        "--watch",
        nargs="?",
        const=5.0,
        type=float,
        metavar="SECONDS",
        help="show it again every SECONDS (default 5) until interrupted",
    )
    add_connection_options(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, ui: Ui) -> int:
    # Imported here, not at start-up: `sealer --version` and `--help` need none of it.
    from sealer.cli.status_run import run

    return run(args, ui)
