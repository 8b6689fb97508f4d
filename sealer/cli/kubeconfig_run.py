"""What `sealer kubeconfig` does; its options are registered in :mod:`sealer.cli.cmd_kubeconfig`.

`sealer kubeconfig -f FILE`: a kubeconfig that works from this machine."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from sealer.cli.cmd_kubeconfig import DEFAULT_TTL
from sealer.cli.render import Ui
from sealer.cli.session import pool_options, run_async
from sealer.clusterfile import load as load_clusterfile
from sealer.connect import Connections
from sealer.dr.access import (
    Issued,
    admin_kubeconfig,
    first_ready_master,
    parse_ttl,
    user_kubeconfig,
)
from sealer.errors import SealerError, UsageError

__all__ = ["run_kubeconfig"]


def _write_private(path: Path, data: bytes) -> None:
    partial = path.with_name(f".{path.name}.partial")
    try:
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.fchmod(fd, 0o600)
            os.write(fd, data)
        finally:
            os.close(fd)
        os.replace(partial, path)
    except OSError as exc:
        raise SealerError(f"{path}: cannot write the kubeconfig: {exc.strerror}") from None


def run_kubeconfig(args: argparse.Namespace, ui: Ui) -> int:
    if args.user is None and (args.group or args.ttl):
        raise UsageError("--group and --ttl need --user (the admin credentials are not issued)")
    if args.user is not None and not args.user.strip():
        raise UsageError("--user: the name is empty")
    ttl = parse_ttl(args.ttl or DEFAULT_TTL) if args.user is not None else None
    loaded = load_clusterfile(args.file)
    cluster = loaded.cluster
    options = pool_options(args, loaded)

    async def main() -> Issued:
        async with Connections(options) as conns:
            master = await first_ready_master(conns, cluster, args.connect_timeout)
            if args.user is None or ttl is None:
                return await admin_kubeconfig(conns, cluster, master, args.server)
            groups = tuple(args.group)
            return await user_kubeconfig(
                conns, cluster, master, args.server, args.user, groups, ttl
            )

    issued = run_async(main)
    if args.output_file is None:
        ui.out.file.write(issued.kubeconfig.decode())
        ui.out.file.flush()
    else:
        _write_private(args.output_file, issued.kubeconfig)
        ui.err.print(f"wrote {args.output_file} (0600)", markup=False)
    who = f"user {issued.user}" + (f" in {', '.join(issued.groups)}" if issued.groups else "")
    until = f", valid until {issued.not_after:%Y-%m-%d %H:%M:%S}Z" if issued.not_after else ""
    ui.err.print(f"kubeconfig for {who} at {issued.server}{until}", markup=False)
    return 0
