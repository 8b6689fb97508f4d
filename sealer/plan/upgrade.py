"""A change of ``spec.version`` on a running cluster: the refusals and the rolling order (pure).

The live versions decide, never a record of a previous run: a host's Node reports its kubelet's
version, its disk its kubeadm's, and a Node sealer cordoned for an upgrade carries
:data:`~sealer.facts.cluster.UPGRADING_ANNOTATION` until it is uncordoned. A host whose kubelet
and kubeadm are at the target and which sealer did not leave cordoned is done; the others are
upgraded, so a run that stopped is finished by the next one.

The order (an edge means "after"):

* ``snapshot@<api master>`` and ``stage@h`` (every host still to upgrade) start at once;
* ``upgrade-master@m``, one master at a time in file order (master0 first, which runs
  ``kubeadm upgrade apply``), each after the snapshot, its own stage and the previous master;
* ``upgrade-node@n`` in batches of ``spec.upgrade.maxUnavailable``: every node of a batch after
  the last master and every node of the batch before it, and after its own stage.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sealer.errors import PlanError
from sealer.plan.payloads import (
    Payload,
    SnapshotPayload,
    StagePayload,
    UpgradeMasterPayload,
    UpgradeNodePayload,
    UpgradeSettings,
)
from sealer.plan.state import ClusterState, LiveNode
from sealer.spec.model import Cluster, parse_version

__all__ = ["HostUpgrade", "plan_upgrade", "upgrade_needed", "version_refusal"]

#: Adds one planned step (payload, host, why, after) and returns its id.
AddStep = Callable[[Payload, str, str, Iterable[str]], str]


@dataclass(frozen=True)
class HostUpgrade:
    """One host still to upgrade: its Node, and the version it runs now."""

    address: str
    node: LiveNode
    have: str


def _v(text: str) -> tuple[int, int, int]:
    return parse_version(text)


def _text(v: tuple[int, int, int]) -> str:
    return f"v{v[0]}.{v[1]}.{v[2]}"


def _pending(cluster: Cluster, live: ClusterState) -> list[HostUpgrade]:
    want = cluster.spec.version
    out: list[HostUpgrade] = []
    for address in cluster.spec.all_addresses:
        node = live.node_at(address)
        if node is None or not node.version:
            continue
        kubeadm = live.hosts[address].kubeadm_version
        if node.version != want or kubeadm != want or node.upgrading_to:
            out.append(HostUpgrade(address, node, node.version))
    return out


def upgrade_needed(cluster: Cluster, live: ClusterState) -> bool:
    """The cluster runs and a host of the file is not (fully) at ``spec.version``."""
    return live.initialized and bool(_pending(cluster, live))


def version_refusal(running: Iterable[str], want: str) -> str | None:
    """Why going from the ``running`` versions (kubelets of every Node) to ``want`` is refused:
    another major, a downgrade, or more than one minor at once (kubeadm's rules); None when
    it is allowed."""
    versions = sorted({_v(r) for r in running})
    if not versions:
        return None
    low, high, target = versions[0], versions[-1], _v(want)
    if target[0] != low[0] or target[0] != high[0]:
        return (
            f"the cluster runs {_text(high)} and the Clusterfile asks for {want}: kubeadm does "
            "not upgrade across major versions"
        )
    if target < high:
        return (
            f"the cluster runs {_text(high)} and the Clusterfile asks for {want}: that is a "
            f"downgrade, which kubeadm does not do. Put version: {_text(high)} (and its package) "
            "back in the Clusterfile"
        )
    if target[1] > low[1] + 1:
        step = f"v{low[0]}.{low[1] + 1}"
        return (
            f"the cluster runs {_text(low)} and the Clusterfile asks for {want}: kubeadm upgrades "
            f"one minor version at a time. Apply {step}.x first (the newest {step} patch, with "
            f"its package), then {want}"
        )
    return None


def _health_refusal(cluster: Cluster, live: ClusterState, batch: int) -> str | None:
    masters = set(cluster.spec.master_addresses)
    unread = [f"{m}: {why}" for m, why in live.unread.items() if m in masters]
    if unread:
        return "a master's API server or etcd does not answer (" + "; ".join(unread) + ")"
    for m in cluster.spec.master_addresses:
        node = live.node_at(m)
        if node is None:
            return f"master {m} has no Node in the cluster"
        if not node.ready:
            return f"master {node.name} ({m}) is not Ready"
    down = [
        n.name
        for a in cluster.spec.node_addresses
        if (n := live.node_at(a)) is not None and not n.ready
    ]
    if len(down) > batch:
        return (
            f"{len(down)} nodes are NotReady ({', '.join(down)}), more than the "
            f"{batch} spec.upgrade.maxUnavailable allows"
        )
    return None


def _refuse_other_changes(cluster: Cluster, live: ClusterState) -> None:
    wanted = set(cluster.spec.all_addresses)
    missing = [a for a in cluster.spec.all_addresses if live.node_at(a) is None]
    gone = [n.name for n in live.nodes if n.address not in wanted]
    if missing or gone:
        what = []
        if missing:
            what.append(f"adds {', '.join(missing)}")
        if gone:
            what.append(f"removes {', '.join(gone)}")
        raise PlanError(
            f"the Clusterfile changes spec.version and also {' and '.join(what)}: sealer does "
            "one at a time. Upgrade the hosts the cluster has first (keep the host lists as "
            "they are), then add or remove hosts"
        )


def plan_upgrade(
    cluster: Cluster, live: ClusterState, add: AddStep, *, skip_drain: bool = False
) -> None:
    """Refuse (PlanError) or add the upgrade's steps through ``add``."""
    spec = cluster.spec
    want = spec.version
    _refuse_other_changes(cluster, live)
    refusal = version_refusal((n.version for n in live.nodes if n.version), want)
    if refusal:
        raise PlanError(refusal)
    batch = spec.upgrade.batch_size(len(spec.node_addresses))
    unhealthy = _health_refusal(cluster, live, batch)
    if unhealthy:
        raise PlanError(
            f"the cluster is not healthy enough to upgrade to {want}: {unhealthy}. Nothing was "
            "changed; bring it back first"
        )
    pending = _pending(cluster, live)
    settings = UpgradeSettings(want, spec.upgrade.drain_seconds, skip_drain)
    staged = {
        h.address: add(
            StagePayload(want),
            h.address,
            f"stage the {want} package next to the running {h.have} one",
            (),
        )
        for h in pending
    }
    api = live.api_host or spec.master0
    snapshot = add(SnapshotPayload(), api, f"etcd's data is saved before the upgrade to {want}", ())
    masters = [h for h in pending if h.address in spec.master_addresses]
    nodes = [h for h in pending if h.address in spec.node_addresses]
    previous: list[str] = [snapshot]
    for h in masters:
        first = h.address == spec.master0
        how = "kubeadm upgrade apply" if first else "kubeadm upgrade node"
        previous = [
            add(
                UpgradeMasterPayload(h.node.name, settings, first=first),
                h.address,
                f"{h.have} -> {want} ({how}; drain, kubelet, uncordon; masters one at a time)",
                [*previous, staged[h.address]],
            )
        ]
    batches = [nodes[i : i + batch] for i in range(0, len(nodes), batch)]
    for number, group in enumerate(batches, start=1):
        done: list[str] = []
        for h in group:
            done.append(
                add(
                    UpgradeNodePayload(h.node.name, settings, number, len(batches)),
                    h.address,
                    f"{h.have} -> {want} (batch {number} of {len(batches)}: drain, kubeadm "
                    "upgrade node, kubelet, uncordon)",
                    [*previous, staged[h.address]],
                )
            )
        previous = done
