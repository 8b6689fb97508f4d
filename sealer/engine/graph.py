"""The plan as a dependency graph of steps (a thin wrapper over :class:`networkx.DiGraph`).

Nodes are step ids (``join-node@10.0.0.5``); an edge ``a -> b`` means "b runs after a succeeded".
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import networkx as nx

from sealer.engine.step import Step, step_id
from sealer.errors import PlanError

__all__ = ["Graph"]


class Graph:
    """Steps and their ordering. Build with :meth:`add`, check with :meth:`check`."""

    def __init__(self) -> None:
        self._graph = nx.DiGraph()
        self._steps: dict[str, Step] = {}

    def add(self, step: Step, *, after: Iterable[Step | str] = ()) -> str:
        """Add ``step`` to run after every step in ``after`` (steps or ids); return its id."""
        sid = step_id(step)
        if sid in self._steps:
            raise PlanError(f"step {sid} is planned twice")
        self._steps[sid] = step
        self._graph.add_node(sid)
        for before in after:
            self.order_after(sid, before)
        return sid

    def order_after(self, later: Step | str, earlier: Step | str) -> None:
        """Make ``later`` run only after ``earlier`` succeeded."""
        self._graph.add_edge(_id(earlier), _id(later))

    def __len__(self) -> int:
        return len(self._steps)

    def __contains__(self, item: object) -> bool:
        if isinstance(item, str):
            return item in self._steps
        return isinstance(item, Step) and step_id(item) in self._steps

    def __iter__(self) -> Iterator[str]:
        return iter(self.order())

    def step(self, sid: str) -> Step:
        return self._steps[sid]

    def dependencies(self, sid: str) -> list[str]:
        """Ids this step waits for directly."""
        return sorted(self._graph.predecessors(sid))

    def successors(self, sid: str) -> list[str]:
        """Ids that wait for this step directly."""
        return sorted(self._graph.successors(sid))

    def dependents(self, sid: str) -> set[str]:
        """Ids of every step that (transitively) waits for ``sid``."""
        return set(nx.descendants(self._graph, sid))

    def check(self) -> None:
        """Raise PlanError for a dependency on an unplanned step or for a cycle."""
        for node in sorted(self._graph.nodes):
            if node not in self._steps:
                users = ", ".join(sorted(self._graph.successors(node)))
                raise PlanError(f"{users} depends on {node}, which is not in the plan")
        try:
            cycle = nx.find_cycle(self._graph)
        except nx.NetworkXNoCycle:
            return
        path = [edge[0] for edge in cycle] + [cycle[0][0]]
        raise PlanError(f"the steps depend on each other in a cycle: {' -> '.join(path)}")

    def order(self) -> list[str]:
        """Ids in a deterministic topological order (ties broken by id)."""
        self.check()
        return list(nx.lexicographical_topological_sort(self._graph))

    def layers(self) -> list[list[str]]:
        """Ids grouped by depth: every step of a layer can run at the same time."""
        self.check()
        return [sorted(layer) for layer in nx.topological_generations(self._graph)]

    def plan_lines(self) -> list[str]:
        """The plan as text, one step per line, for dry-run and ``diff``."""
        order = self.order()
        if not order:
            return ["nothing to do: every host is in shape"]
        width = len(str(len(order)))
        lines = []
        for number, sid in enumerate(order, 1):
            deps = self.dependencies(sid)
            after = f"  (after {', '.join(deps)})" if deps else ""
            lines.append(f"{number:>{width}}. {sid}{after}")
        return lines


def _id(item: Step | str) -> str:
    return item if isinstance(item, str) else step_id(item)
