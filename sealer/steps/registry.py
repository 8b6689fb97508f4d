"""Every step kind's builder, looked up by kind; complete, or this module does not import.

Each step module lists what it builds in its ``BUILDERS`` tuple; :data:`BUILDERS` maps every
:class:`~sealer.plan.kinds.StepKind` to its one builder. A kind without a builder, or with two,
is a :class:`~sealer.errors.PlanError` when this module is imported, so a step kind that the
planner can emit but nothing can run never reaches a run.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any

from sealer.errors import PlanError
from sealer.plan.kinds import StepKind
from sealer.steps import (
    backup_schedule,
    clean,
    cni,
    delete_node,
    distribute,
    drain,
    hosts,
    identity,
    init,
    install,
    join_master,
    join_node,
    lb,
    prepare,
    remove_member,
    snapshot,
    stage,
    upgrade_master,
    upgrade_node,
)
from sealer.steps.base import StepBuilder

__all__ = ["BUILDERS", "builders_by_kind"]


def builders_by_kind(
    builders: Iterable[StepBuilder[Any]],
) -> Mapping[StepKind, StepBuilder[Any]]:
    """``builders`` by kind (read-only); every kind exactly once, else a PlanError."""
    found: dict[StepKind, StepBuilder[Any]] = {}
    for builder in builders:
        if builder.kind in found:
            raise PlanError(
                f"step kind {builder.kind} has two builders: {found[builder.kind].make} "
                f"and {builder.make}"
            )
        found[builder.kind] = builder
    missing = [kind.value for kind in StepKind if kind not in found]
    if missing:
        raise PlanError(f"no builder for the step kind(s) {', '.join(missing)}")
    return MappingProxyType(found)


BUILDERS = builders_by_kind(
    (
        *prepare.BUILDERS,
        *distribute.BUILDERS,
        *install.BUILDERS,
        *hosts.BUILDERS,
        *lb.BUILDERS,
        *init.BUILDERS,
        *join_master.BUILDERS,
        *join_node.BUILDERS,
        *identity.BUILDERS,
        *snapshot.BUILDERS,
        *drain.BUILDERS,
        *clean.BUILDERS,
        *remove_member.BUILDERS,
        *delete_node.BUILDERS,
        *cni.BUILDERS,
        *stage.BUILDERS,
        *upgrade_master.BUILDERS,
        *upgrade_node.BUILDERS,
        *backup_schedule.BUILDERS,
    )
)
