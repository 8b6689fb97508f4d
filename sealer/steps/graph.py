"""Turn a plan (pure data) into the engine's graph of executable steps."""

from __future__ import annotations

from sealer.engine.graph import Graph
from sealer.engine.step import Step
from sealer.errors import PlanError
from sealer.plan.diff import (
    FLAG_IDENTITY_CONFIGMAP,
    FLAG_REMOVE_ETCD_MEMBER,
    FLAG_RESET_HALF_DONE_INIT,
    Plan,
    PlannedStep,
    desired_hosts_entries,
)
from sealer.steps.control_plane import Init, JoinMaster, JoinNode
from sealer.steps.distribute import Distribute
from sealer.steps.hosts import Hosts
from sealer.steps.identity import Identity
from sealer.steps.lb import LoadBalancer
from sealer.steps.remove import Clean, DeleteNode, Drain, RemoveMember
from sealer.steps.snapshot import Snapshot
from sealer.steps.target import Target

__all__ = ["apply_graph", "clean_graph"]


def _node_name(target: Target, address: str) -> str:
    node = target.live.node_at(address)
    return node.name if node is not None else target.hostname(address)


def _executable(planned: PlannedStep, target: Target) -> Step:
    host = planned.host
    if host is None:
        raise PlanError(f"step {planned.name} needs a host")
    joined = target.live.node_at(host) is not None
    match planned.name:
        case "distribute":
            return Distribute(target, host)
        case "hosts":
            return Hosts(target, host, desired_hosts_entries(target.cluster, host, joined=joined))
        case "ipvs":
            return LoadBalancer(target, host)
        case "init":
            return Init(target, host, FLAG_RESET_HALF_DONE_INIT in planned.flags)
        case "join-master":
            return JoinMaster(target, host, FLAG_REMOVE_ETCD_MEMBER in planned.flags)
        case "identity":
            return Identity(target, host, FLAG_IDENTITY_CONFIGMAP in planned.flags)
        case "join-node":
            return JoinNode(target, host)
        case "drain":
            return Drain(target, host, _node_name(target, host))
        case "clean":
            return Clean(target, host, FLAG_REMOVE_ETCD_MEMBER in planned.flags)
        case "remove-member":
            return RemoveMember(target, host)
        case "snapshot":
            return Snapshot(target, host)
        case "delete-node":
            return DeleteNode(target, host, _node_name(target, host))
    raise PlanError(f"no step is called {planned.name}")


def apply_graph(plan: Plan, target: Target) -> Graph:
    graph = Graph()
    for planned in plan.steps:
        graph.add(_executable(planned, target), after=planned.after)
    graph.check()
    return graph


def clean_graph(target: Target, addresses: list[str], masters: list[str]) -> Graph:
    """Every node cleaned at once; then the masters one at a time, master0 last (so etcd
    keeps quorum while members leave)."""
    graph = Graph()
    node_ids = [graph.add(Clean(target, a)) for a in addresses if a not in masters]
    previous: list[str] = node_ids
    for master in reversed(masters):
        previous = [graph.add(Clean(target, master), after=previous)]
    graph.check()
    return graph
