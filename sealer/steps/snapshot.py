"""``snapshot``: save etcd's data before anything destructive, and keep a copy off the cluster.

On a master that serves the cluster: ``etcdctl snapshot save`` to a temporary name, checked with
``etcdctl snapshot status`` (it must hold keys), renamed into ``/var/lib/sealer/snapshots``
where the newest :data:`KEEP` are kept; then copied to the workstation under
``~/.local/state/sealer/snapshots/<cluster>/`` (0600, the directory 0700: a snapshot holds
every secret of the cluster) with its sha256 beside it, checked against the master's.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from sealer.connect import HostAccess, Remote
from sealer.engine.context import RunContext
from sealer.engine.step import StepOutcome, changed
from sealer.errors import StepError
from sealer.facts.cluster import ETCDCTL
from sealer.facts.system import parse_sha256sum
from sealer.layout import SNAPSHOT_DIR
from sealer.plan.payloads import SnapshotPayload
from sealer.steps.base import KindStep, StepBuilder

__all__ = ["BUILDERS", "KEEP", "SNAPSHOT_TIMEOUT", "Snapshot", "SnapshotTaken", "take_snapshot"]

#: Snapshots kept on the master (older ones are removed after a new one is verified).
KEEP = 5
SNAPSHOT_TIMEOUT = 900.0


@dataclass(frozen=True)
class SnapshotTaken:
    remote: str
    local: Path
    sha256: str
    keys: int
    revision: int
    size: int

    def describe(self, host: str) -> str:
        return (
            f"etcd snapshot ({self.keys} keys, revision {self.revision}, {self.size} bytes) "
            f"kept on {host} at {self.remote} and copied to {self.local} (sha256 {self.sha256})"
        )


def _status(text: str) -> tuple[int, int, int]:
    """``etcdctl snapshot status -w json``::

    {"hash": 3280519337, "revision": 1187, "totalKey": 642, "totalSize": 3997696}
    """
    data = json.loads(text)
    return int(data["totalKey"]), int(data["revision"]), int(data["totalSize"])


async def take_snapshot(
    conns: Remote, access: HostAccess, cluster_name: str, local_dir: Path, *, step: str
) -> SnapshotTaken:
    """Save, verify, rotate and copy one snapshot (StepError naming ``step`` when it fails)."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    name = f"etcd-{cluster_name}-{stamp}.db"
    remote = f"{SNAPSHOT_DIR}/{name}"
    partial = f"{SNAPSHOT_DIR}/.{name}.part"
    await conns.run(access, ["mkdir", "-p", "-m", "0700", "--", SNAPSHOT_DIR])
    await conns.run(access, [*ETCDCTL, "snapshot", "save", partial], timeout=SNAPSHOT_TIMEOUT)
    status = await conns.run(access, [*ETCDCTL, "snapshot", "status", "-w", "json", partial])
    try:
        keys, revision, size = _status(status.stdout)
    except (ValueError, KeyError, TypeError) as exc:
        raise StepError(step, access.label, f"etcdctl snapshot status: {exc}") from None
    if keys < 1:
        raise StepError(step, access.label, "the snapshot holds no keys: etcd's data is missing")
    await conns.run(access, ["mv", "-f", "--", partial, remote])
    sha256 = parse_sha256sum(await conns.run(access, ["sha256sum", "--", remote]))
    if sha256 is None:
        raise StepError(step, access.label, f"cannot read the sha256 of {remote}")
    listed = await conns.run(access, ["ls", "-1", "--", SNAPSHOT_DIR])
    ours = sorted(n for n in listed.stdout.split() if n.startswith("etcd-") and n.endswith(".db"))
    old = [f"{SNAPSHOT_DIR}/{n}" for n in ours[:-KEEP]]
    if old:
        await conns.run(access, ["rm", "-f", "--", *old])
    local_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    local = local_dir / name
    data = await conns.get(access, remote, local, mode=0o600)
    if hashlib.sha256(data).hexdigest() != sha256:
        local.unlink(missing_ok=True)
        raise StepError(step, access.label, f"the copy of {remote} differs from the master's")
    (local_dir / f"{name}.sha256").write_text(f"{sha256}  {name}\n")
    return SnapshotTaken(remote, local, sha256, keys, revision, size)


@dataclass(frozen=True)
class Snapshot(KindStep[SnapshotPayload]):
    async def run(self, _ctx: RunContext) -> StepOutcome:
        t = self.target
        taken = await take_snapshot(
            t.conns,
            t.access[self.host],
            t.cluster.metadata.name,
            t.snapshot_dir,
            step=self.name,
        )
        return changed(taken.describe(self.host))


BUILDERS = (StepBuilder(SnapshotPayload, Snapshot),)
