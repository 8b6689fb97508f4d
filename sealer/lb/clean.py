"""What `sealer clean` removes on a node for the load balancer, in order."""

from __future__ import annotations

from dataclasses import dataclass

from sealer.lb.paths import CA_PATH, CONFIG_PATH, PROGRAM_PATH, PYTHON_PATH, UNIT_NAME, UNIT_PATH

__all__ = ["CleanCommand", "CleanPlan", "clean_plan"]


@dataclass(frozen=True)
class CleanCommand:
    """One argv to run; ``may_fail`` when a non-zero exit only means "already gone"."""

    argv: tuple[str, ...]
    may_fail: bool


@dataclass(frozen=True)
class CleanPlan:
    """Commands first (stop the daemon, then delete its rules), then files, then a reload."""

    before: tuple[CleanCommand, ...]
    paths: tuple[str, ...]
    after: tuple[CleanCommand, ...]


def clean_plan(python: str = PYTHON_PATH) -> CleanPlan:
    """The daemon is stopped first (or it would re-create the rules), then `--clean` deletes
    the nftables table, the IPVS service and the sealer-vip link, then the files go."""
    return CleanPlan(
        before=(
            CleanCommand(("systemctl", "disable", "--now", UNIT_NAME), may_fail=True),
            CleanCommand(
                (python, PROGRAM_PATH, "--clean", "--config", CONFIG_PATH), may_fail=False
            ),
        ),
        paths=(UNIT_PATH, PROGRAM_PATH, CONFIG_PATH, CA_PATH),
        after=(
            CleanCommand(("systemctl", "daemon-reload"), may_fail=True),
            CleanCommand(("systemctl", "reset-failed", UNIT_NAME), may_fail=True),
        ),
    )
