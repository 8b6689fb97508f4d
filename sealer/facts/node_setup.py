"""Facts about what sealer itself set up on a host, and host traits kubeadm needs.

Each is a command plus a pure parser; none changes anything.
"""

from __future__ import annotations

from typing import Literal

from sealer.connect import Result
from sealer.facts.base import Fact, UnexpectedExit
from sealer.layout import CARE_CONFIG_PATH, CARE_UNIT_NAME

__all__ = [
    "care_active",
    "care_config",
    "cgroup_driver",
    "ipvs_available",
    "parse_care_active",
    "parse_care_config",
    "parse_cgroup_driver",
    "parse_ipvs_available",
]


def parse_care_config(result: Result) -> str | None:
    """``cat -- /etc/sealer/care.json``: the configuration text, None when absent."""
    if result.exit_status != 0:
        if "No such file or directory" in result.stderr:
            return None
        raise UnexpectedExit(result)
    return result.stdout


care_config: Fact[str | None] = Fact(
    "load-balancer configuration", ("cat", "--", CARE_CONFIG_PATH), parse_care_config
)


def parse_care_active(result: Result) -> bool:
    """``systemctl is-active UNIT``: prints ``active`` with exit 0 when running; ``inactive``,
    ``failed``, ``activating``... with exit 3 (or 4 for an unknown unit) otherwise."""
    if result.exit_status == 0:
        return result.stdout.strip() == "active"
    if result.exit_status in (3, 4):
        return False
    raise UnexpectedExit(result)


care_active: Fact[bool] = Fact(
    "load-balancer daemon state", ("systemctl", "is-active", CARE_UNIT_NAME), parse_care_active
)


def parse_cgroup_driver(result: Result) -> Literal["systemd", "cgroupfs"]:
    """``test -d /run/systemd/system``: exit 0 when systemd is the init system (kubelet and
    the container runtime should then use the systemd cgroup driver), 1 otherwise."""
    if result.exit_status == 0:
        return "systemd"
    if result.exit_status == 1:
        return "cgroupfs"
    raise UnexpectedExit(result)


cgroup_driver: Fact[Literal["systemd", "cgroupfs"]] = Fact(
    "cgroup driver", ("test", "-d", "/run/systemd/system"), parse_cgroup_driver
)


def parse_ipvs_available(result: Result) -> bool:
    """``modinfo -F name ip_vs``: prints ``ip_vs`` with exit 0 when the kernel has IPVS
    (built in or as a module); exit 1 with "Module ip_vs not found." when not, and 127 when
    modinfo itself is missing (then only /proc tells, and we say no)."""
    if result.exit_status == 0:
        return result.stdout.strip() in ("ip_vs", "")
    if result.exit_status in (1, 127):
        return False
    raise UnexpectedExit(result)


ipvs_available: Fact[bool] = Fact(
    "IPVS support", ("modinfo", "-F", "name", "ip_vs"), parse_ipvs_available
)
