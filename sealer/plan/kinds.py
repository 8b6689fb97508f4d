"""The one list of step kinds: every step sealer can plan and run, by the name users see.

The name is written once, here. The planner emits steps of these kinds (with a payload of
:mod:`sealer.plan.payloads`), ``sealer diff`` and the run log show the names, and
:mod:`sealer.steps.registry` refuses to import unless every kind has exactly one builder.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["StepKind"]


class StepKind(StrEnum):
    PREPARE = "prepare"
    DISTRIBUTE = "distribute"
    INSTALL = "install"
    HOSTS = "hosts"
    IPVS = "ipvs"
    INIT = "init"
    JOIN_MASTER = "join-master"
    JOIN_NODE = "join-node"
    IDENTITY = "identity"
    SNAPSHOT = "snapshot"
    DRAIN = "drain"
    CLEAN = "clean"
    REMOVE_MEMBER = "remove-member"
    DELETE_NODE = "delete-node"
    CNI = "cni"
    STAGE = "stage"
    UPGRADE_MASTER = "upgrade-master"
    UPGRADE_NODE = "upgrade-node"
    BACKUP_SCHEDULE = "backup-schedule"
