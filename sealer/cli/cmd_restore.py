"""`sealer restore -f FILE --from ARCHIVE`: put a backup's etcd snapshot back on every master."""

from __future__ import annotations

import argparse
from pathlib import Path

from sealer.cli.options import add_break_lock, add_clusterfile, add_connection_options, add_output
from sealer.cli.passphrase import add_passphrase_env
from sealer.cli.render import Ui

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
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, ui: Ui) -> int:
    # Imported here, not at start-up: `sealer --version` and `--help` need none of it.
    from sealer.cli.restore_run import run_restore_command

    return run_restore_command(args, ui)
