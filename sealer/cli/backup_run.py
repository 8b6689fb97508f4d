"""What `sealer backup` does; its options are registered in :mod:`sealer.cli.cmd_backup`.

`sealer backup -f FILE`: a verified etcd snapshot, the CAs and the cluster identity in one
archive on the workstation."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

from sealer.cli.passphrase import passphrase_from_env
from sealer.cli.render import Ui
from sealer.cli.session import (
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

__all__ = ["run_backup"]


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
