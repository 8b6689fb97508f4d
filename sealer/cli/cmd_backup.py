"""`sealer backup -f FILE`: a verified etcd snapshot, the CAs and the cluster identity in one
archive on the workstation."""

from __future__ import annotations

import argparse
from pathlib import Path

from sealer.cli.options import add_break_lock, add_clusterfile, add_connection_options, add_output
from sealer.cli.passphrase import add_passphrase_env
from sealer.cli.render import Ui

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "backup",
        help="save etcd, the CAs and the cluster identity to one archive",
        description="Take an etcd snapshot on a healthy master, verify it (snapshot status: "
        "hash, revision, keys), and write one archive on this machine (0600) with the "
        "snapshot, the cluster's CAs and service-account keys, the cluster identity, the "
        "Clusterfile and a manifest of versions and sha256 sums. Holds the run lock.",
    )
    add_clusterfile(parser)
    parser.add_argument(
        "-o",
        "--output-dir",
        dest="output_dir",
        type=Path,
        metavar="DIR",
        help="where the archive goes (default ~/.local/state/sealer/backups/<cluster>)",
    )
    parser.add_argument(
        "--keep",
        type=int,
        metavar="N",
        help="then remove all but the newest N archives of this cluster in that directory",
    )
    add_passphrase_env(parser, "encrypt the archive")
    parser.add_argument("--log", metavar="FILE", help="the run log (JSON lines)")
    add_break_lock(parser)
    add_output(parser)
    add_connection_options(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, ui: Ui) -> int:
    # Imported here, not at start-up: `sealer --version` and `--help` need none of it.
    from sealer.cli.backup_run import run_backup

    return run_backup(args, ui)
