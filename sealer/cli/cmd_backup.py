"""`sealer backup -f FILE`: a verified etcd snapshot, the CAs and the cluster identity in one
archive on the workstation."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

from sealer.cli.options import add_clusterfile, add_output
from sealer.cli.passphrase import add_passphrase_env, passphrase_from_env
from sealer.cli.render import Ui
from sealer.cli.session import (
    add_break_lock,
    add_connection_options,
    open_run_log,
    pool_options,
    run_async,
    run_lock,
    run_log_path,
)
from sealer.clusterfile import load as load_clusterfile
from sealer.connect import Connections
from sealer.dr.archive import Archive, archive_name, backup_dir, rotate, write_archive
from sealer.dr.backup import choose_master, take_backup
from sealer.errors import UsageError

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
    parser.set_defaults(handler=run_backup)


def run_backup(args: argparse.Namespace, ui: Ui) -> int:
    if args.keep is not None and args.keep < 1:
        raise UsageError(f"--keep {args.keep}: keep at least 1 archive")
    passphrase = passphrase_from_env(args)
    loaded = load_clusterfile(args.file)
    cluster = loaded.cluster
    name = cluster.metadata.name
    options = pool_options(args, loaded)
    log_path = run_log_path(args, name, "backup")
    clusterfile = Path(args.file).read_bytes()

    async def main() -> tuple[Archive, str]:
        async with (
            Connections(options, recorder=open_run_log(log_path)) as conns,
            run_lock(ui, conns, cluster, args, "backup"),
        ):
            master = await choose_master(conns, cluster, args.connect_timeout)
            return await take_backup(conns, cluster, master, clusterfile), master.address

    archive, master = run_async(main)
    directory: Path = args.output_dir or backup_dir(name)
    path = write_archive(
        directory,
        archive_name(name, dt.datetime.now(dt.UTC), encrypted=passphrase is not None),
        archive,
        passphrase,
    )
    removed = rotate(directory, name, args.keep) if args.keep is not None else []
    size = path.stat().st_size
    if ui.output == "json":
        ui.print_json(
            {
                "path": str(path),
                "size": size,
                "encrypted": passphrase is not None,
                "cluster": name,
                "uid": archive.uid,
                "master": master,
                "etcd": {
                    "revision": archive.etcd.revision,
                    "hash": archive.etcd.hash,
                    "keys": archive.etcd.keys,
                },
                "removed": [str(p) for p in removed],
                "log": str(log_path),
            }
        )
        return 0
    ui.out.print(
        f"{path}: {size} bytes, etcd revision {archive.etcd.revision} "
        f"({archive.etcd.keys} keys, hash {archive.etcd.hash}) from {master}"
        + ("; encrypted" if passphrase is not None else ""),
        markup=False,
    )
    for old in removed:
        ui.err.print(f"removed the older archive {old}", markup=False)
    ui.err.print(f"run log: {log_path}", markup=False)
    return 0
