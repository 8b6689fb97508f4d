"""``sealer certs renew`` as a chain of engine steps, one master at a time.

For each master, in Clusterfile order::

    certs-health@M  ->  certs-snapshot@M (the first master only)  ->  certs-renew@M

``certs-health`` reads every master and refuses (a :class:`~sealer.errors.StepError`) unless
all are healthy: restarting one master while another is down could take the API or the etcd
quorum away. ``certs-snapshot`` saves etcd's data, once, before the first master restarts, and
copies it to the workstation. ``certs-renew`` replaces the master's leaves and restarts its
control plane (:func:`~sealer.certops.renew.renew_master`). Each step starts only after the
one before it succeeded, so the first failure stops the chain: the masters after it keep
their old, still valid, certificates. The caller holds the run lock for the whole chain (its
loss cancels the run), as ``clean`` does.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from sealer.aio import gather_all
from sealer.certops.renew import (
    EventSink,
    MasterRenewal,
    RenewEvent,
    RenewOptions,
    check_health,
    refusal,
    renew_master,
)
from sealer.connect import Remote
from sealer.engine import Graph, RunContext, Status, StepOutcome, changed, execute, unchanged
from sealer.errors import StepError
from sealer.kube.pki import ClusterCA
from sealer.plan.access import host_access
from sealer.plan.observe import resolve_ipv4
from sealer.spec.model import Cluster
from sealer.steps.snapshot import take_snapshot
from sealer.workstation import snapshot_dir

__all__ = [
    "CheckMastersHealthy",
    "RenewJob",
    "RenewMaster",
    "SnapshotEtcd",
    "renew_graph",
    "renew_masters",
]

#: The name errors of every step carry, as before renew ran on the engine.
ERROR_STEP = "certs-renew"


@dataclass(frozen=True)
class RenewJob:
    """What the steps of one renew share. ``record`` receives each master's renewal."""

    conns: Remote
    cluster: Cluster
    ca: ClusterCA
    options: RenewOptions
    stamp: str  # names the backup directory on every master
    events: EventSink
    snapshots: Path
    record: Callable[[MasterRenewal], None]
    #: The address each master the Clusterfile names by DNS name resolves to (read once): a
    #: master keeps it in its certificates, as apply issued them.
    resolved: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class CheckMastersHealthy:
    """Every master healthy (API ready, etcd healthy, every manifest in place), read anew
    before ``host`` is touched; else the chain stops here."""

    job: RenewJob
    host: str
    name: str = "certs-health"

    async def run(self, _ctx: RunContext) -> StepOutcome:
        job = self.job
        masters = job.cluster.spec.master_addresses
        health = await gather_all(*(check_health(job.conns, job.cluster, a) for a in masters))
        error = refusal(health)
        if error is not None:
            raise StepError(ERROR_STEP, self.host, f"not started: {error.message}")
        return unchanged(f"every master is healthy ({len(masters)})")


@dataclass(frozen=True)
class SnapshotEtcd:
    """An etcd snapshot on ``host``, copied to the workstation, before any master restarts."""

    job: RenewJob
    host: str
    name: str = "certs-snapshot"

    async def run(self, _ctx: RunContext) -> StepOutcome:
        job = self.job
        started = time.monotonic()
        access = host_access(job.cluster, self.host)
        taken = await take_snapshot(
            job.conns, access, job.cluster.metadata.name, job.snapshots, step=ERROR_STEP
        )
        message = taken.describe(self.host)
        job.events(RenewEvent(self.host, "snapshot", message, time.monotonic() - started))
        return changed(message)


@dataclass(frozen=True)
class RenewMaster:
    """New leaves and kubeconfigs on ``host``, its control plane restarted and ready again."""

    job: RenewJob
    host: str
    name: str = "certs-renew"

    async def run(self, _ctx: RunContext) -> StepOutcome:
        job = self.job
        renewal = await renew_master(
            job.conns,
            job.cluster,
            job.ca,
            self.host,
            job.options,
            job.stamp,
            job.events,
            job.resolved,
        )
        job.record(renewal)
        return changed(f"{len(renewal.files)} files renewed (down {renewal.down_seconds:.1f}s)")


def renew_graph(job: RenewJob) -> Graph:
    """The chain of every master's steps, in Clusterfile order (the module's docstring)."""
    graph = Graph()
    previous: list[str] = []
    for index, address in enumerate(job.cluster.spec.master_addresses):
        previous = [graph.add(CheckMastersHealthy(job, address), after=previous)]
        if index == 0:
            previous = [graph.add(SnapshotEtcd(job, address), after=previous)]
        previous = [graph.add(RenewMaster(job, address), after=previous)]
    graph.check()
    return graph


async def renew_masters(
    conns: Remote,
    cluster: Cluster,
    ca: ClusterCA,
    options: RenewOptions,
    events: EventSink,
    *,
    now: dt.datetime | None = None,
    snapshots: Path | None = None,
) -> list[MasterRenewal]:
    """Renew every master through the engine (:func:`renew_graph`); return what was done.

    A failed step's own error is raised, as the step raised it; ``snapshots`` is where the
    etcd snapshot is copied to (default: sealer's state directory)."""
    stamp = (now or dt.datetime.now(dt.UTC)).strftime("%Y%m%dT%H%M%SZ")
    name = cluster.metadata.name
    done: list[MasterRenewal] = []
    masters = cluster.spec.master_addresses
    ips = await gather_all(*(resolve_ipv4(m) for m in masters))
    job = RenewJob(
        conns,
        cluster,
        ca,
        options,
        stamp,
        events,
        snapshots or snapshot_dir(name),
        done.append,
        {m: ip for m, ip in zip(masters, ips, strict=True) if ip},
    )
    summary = await execute(renew_graph(job), RunContext(concurrency=1))
    for result in summary.by_status(Status.FAILED):  # in a chain, at most one
        raise result.cause or summary.errors()[0]
    return done
