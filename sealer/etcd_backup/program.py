#!/usr/bin/python3
"""sealer-etcd-backup: one verified etcd snapshot of this master, rotated.

Installed by sealer (``spec.backup``) as ``/usr/local/bin/sealer-etcd-backup`` on every master
and run by ``sealer-etcd-backup.service`` (Type=oneshot), which ``sealer-etcd-backup.timer``
starts on the Clusterfile's schedule. One run:

1. ``etcdctl snapshot save`` of the local member (https://127.0.0.1:2379, kubeadm's
   healthcheck-client certificate: what ``sealer backup`` uses) to a hidden temporary file in
   the backup directory (0700);
2. ``etcdctl snapshot status -w json`` of that file: it must hold keys (as ``sealer backup``
   checks); its hash, revision and key count are printed;
3. the file is made 0600, synced, and renamed to ``etcd-YYYYMMDDTHHMMSSZ.db``; its sha256 goes
   to ``etcd-YYYYMMDDTHHMMSSZ.db.sha256`` (``sha256sum -c`` format, 0600);
4. the newest ``--keep`` snapshots stay, older ones (and their ``.sha256``) are removed.

Any failure exits 1 with one line saying what failed (the unit turns ``failed``; the journal
has the line) and leaves no partial file. ONE file, Python standard library only, Python >= 3.8.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Sequence

PKI = "/etc/kubernetes/pki/etcd"
ETCDCTL = (
    "etcdctl",
    "--endpoints",
    "https://127.0.0.1:2379",
    "--cacert",
    PKI + "/ca.crt",
    "--cert",
    PKI + "/healthcheck-client.crt",
    "--key",
    PKI + "/healthcheck-client.key",
)
SNAPSHOT = re.compile(r"^etcd-(\d{8}T\d{6}Z)(?:-(\d+))?\.db$")
TIMEOUT = 900


class BackupFailed(Exception):
    """One line for the journal."""


def snapshot_name(now: float, taken: Sequence[str]) -> str:
    """``etcd-YYYYMMDDTHHMMSSZ.db`` for ``now`` (UTC), ``-N`` added when that name is taken."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now))
    name, n = f"etcd-{stamp}.db", 1
    while name in taken:
        name, n = f"etcd-{stamp}-{n}.db", n + 1
    return name


def _order(name: str) -> tuple[str, int]:
    match = SNAPSHOT.match(name)
    assert match is not None
    return match.group(1), int(match.group(2) or 0)


def to_remove(names: Sequence[str], keep: int) -> list[str]:
    """The snapshots (and their ``.sha256``) beyond the newest ``keep``; other files are not
    this program's and stay."""
    snapshots = sorted((n for n in names if SNAPSHOT.match(n)), key=_order, reverse=True)
    old = snapshots[keep:]
    present = set(names)
    return [*old, *(f"{n}.sha256" for n in old if f"{n}.sha256" in present)]


def parse_status(text: str) -> tuple[int, int, int]:
    """``etcdctl snapshot status -w json``: (hash, revision, keys)::

    {"hash":3280519337,"revision":1187,"totalKey":642,"totalSize":3997696}
    """
    data = json.loads(text)
    return int(data["hash"]), int(data["revision"]), int(data["totalKey"])


def _run(argv: Sequence[str], what: str) -> str:
    try:
        done = subprocess.run(
            list(argv), capture_output=True, text=True, timeout=TIMEOUT, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise BackupFailed(f"{what}: {exc}") from None
    if done.returncode != 0:
        said = (done.stderr or done.stdout).strip().splitlines()
        raise BackupFailed(f"{what}: exit status {done.returncode}: {said[-1] if said else ''}")
    return done.stdout


def _sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _write_private(path: str, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def backup(
    directory: str, keep: int, etcdctl: Sequence[str] = ETCDCTL, now: float | None = None
) -> str:
    """Take, verify, rename and rotate; return the line to print. ``now``: the time the
    snapshot is named for (default: the clock)."""
    os.umask(0o077)
    os.makedirs(directory, mode=0o700, exist_ok=True)
    os.chmod(directory, 0o700)
    for stale in os.listdir(directory):  # left by a run that was killed
        if stale.startswith(".etcd-") and stale.endswith(".db.part"):
            os.unlink(os.path.join(directory, stale))
    name = snapshot_name(time.time() if now is None else now, os.listdir(directory))
    final = os.path.join(directory, name)
    partial = os.path.join(directory, f".{name}.part")
    try:
        _run([*etcdctl, "snapshot", "save", partial], "etcdctl snapshot save")
        status = _run(
            [*etcdctl, "snapshot", "status", "-w", "json", partial], "etcdctl snapshot status"
        )
        try:
            hash_, revision, keys = parse_status(status)
        except (ValueError, KeyError, TypeError) as exc:
            raise BackupFailed(f"etcdctl snapshot status: unexpected output: {exc}") from None
        if keys < 1:
            raise BackupFailed("the snapshot holds no keys: etcd's data is missing")
        os.chmod(partial, 0o600)
        with open(partial, "rb") as fh:
            os.fsync(fh.fileno())
        sha256 = _sha256(partial)
        os.rename(partial, final)
    finally:
        if os.path.exists(partial):
            os.unlink(partial)
    _write_private(f"{final}.sha256", f"{sha256}  {name}\n".encode())
    dir_fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
    removed = to_remove(os.listdir(directory), keep)
    for old in removed:
        os.unlink(os.path.join(directory, old))
    gone = len([r for r in removed if not r.endswith(".sha256")])
    return (
        f"saved {final}: revision {revision}, {keys} keys, hash {hash_}, sha256 {sha256}; "
        f"kept the newest {keep}, removed {gone}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="sealer-etcd-backup", description=__doc__)
    parser.add_argument("--dir", required=True, help="where the snapshots go")
    parser.add_argument("--keep", type=int, required=True, help="snapshots kept (newest)")
    args = parser.parse_args(argv)
    if args.keep < 1 or not os.path.isabs(args.dir):
        print("sealer-etcd-backup: --keep at least 1, --dir absolute", file=sys.stderr)
        return 2
    try:
        print(backup(args.dir, args.keep), flush=True)
    except (BackupFailed, OSError) as exc:
        print(f"sealer-etcd-backup: failed: {exc}; no snapshot was kept", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
