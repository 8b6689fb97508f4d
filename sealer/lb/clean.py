"""What `sealer clean` removes on a node for the load balancer, in order."""

from __future__ import annotations

from dataclasses import dataclass

from sealer.layout import (
    CARE_CA_PATH,
    CARE_CONFIG_PATH,
    CARE_PROGRAM_PATH,
    CARE_UNIT_NAME,
    CARE_UNIT_PATH,
    PYTHON_PATH,
)
from sealer.lb.care import NFT_TABLE, VIP_LINK

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


def clean_plan(
    *,
    program_present: bool = True,
    vip: str | None = None,
    port: int = 6443,
    python: str = PYTHON_PATH,
) -> CleanPlan:
    """The daemon is stopped first (or it would re-create the rules), then its rules go.

    With the program on the node (the fact: CARE_PROGRAM_PATH exists), ``sealer-care --clean``
    deletes the nftables table, the IPVS service and the sealer-vip link and exits 0 when they
    are already gone. Without it (an earlier clean stopped half-way) the same is done with
    plain argv, each allowed to fail; check the rule facts afterwards.
    """
    stop = CleanCommand(("systemctl", "disable", "--now", CARE_UNIT_NAME), may_fail=True)
    if program_present:
        rules: tuple[CleanCommand, ...] = (
            CleanCommand(
                (python, CARE_PROGRAM_PATH, "--clean", "--config", CARE_CONFIG_PATH), False
            ),
        )
    else:
        plain: list[tuple[str, ...]] = [("nft", "delete", "table", "ip", NFT_TABLE)]
        if vip is not None:
            plain.append(("ipvsadm", "-D", "-t", f"{vip}:{port}"))
        plain.append(("ip", "link", "del", VIP_LINK))
        rules = tuple(CleanCommand(argv, may_fail=True) for argv in plain)
    return CleanPlan(
        before=(stop, *rules),
        paths=(CARE_UNIT_PATH, CARE_PROGRAM_PATH, CARE_CONFIG_PATH, CARE_CA_PATH),
        after=(
            CleanCommand(("systemctl", "daemon-reload"), may_fail=True),
            CleanCommand(("systemctl", "reset-failed", CARE_UNIT_NAME), may_fail=True),
        ),
    )
