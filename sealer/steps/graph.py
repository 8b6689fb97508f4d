"""Turn a plan (pure data) into the engine's graph of executable steps.

Building a step is a lookup: the registry's builder for the planned step's kind, given the
payload the planner decided. Nothing here decides anything again.
"""

from __future__ import annotations

from sealer.engine.graph import Graph
from sealer.engine.step import Step
from sealer.plan.diff import Plan, PlannedStep
from sealer.plan.payloads import CleanPayload
from sealer.steps.clean import Clean
from sealer.steps.registry import BUILDERS
from sealer.steps.target import Target

__all__ = ["apply_graph", "clean_graph", "executable"]


def executable(planned: PlannedStep, target: Target) -> Step:
    """The step that carries out ``planned`` on its host."""
    return BUILDERS[planned.kind].build(target, planned.host, planned.payload)


def apply_graph(plan: Plan, target: Target) -> Graph:
    graph = Graph()
    for planned in plan.steps:
        graph.add(executable(planned, target), after=planned.after)
    graph.check()
    return graph


def clean_graph(target: Target, addresses: list[str], masters: list[str]) -> Graph:
    """Every node cleaned at once; then the masters one at a time, master0 last (so etcd
    keeps quorum while members leave)."""
    graph = Graph()
    plain = CleanPayload()
    node_ids = [graph.add(Clean(target, a, plain)) for a in addresses if a not in masters]
    previous: list[str] = node_ids
    for master in reversed(masters):
        previous = [graph.add(Clean(target, master, plain), after=previous)]
    graph.check()
    return graph
