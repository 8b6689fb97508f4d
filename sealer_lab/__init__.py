"""The lab: several real SSH hosts on one machine, made of Linux namespaces.

Each host is a network namespace on a bridge of its own lab, with its own PID (tini as PID 1),
mount, UTS and IPC namespaces, private /etc, /root, /var/lib/kubelet..., and the system's sshd.
See docs/lab.md. The host layer (this module's API) knows nothing about Kubernetes; the emulated
Kubernetes is :mod:`sealer_lab.emulate` (docs/lab-emulation.md), ``sealer lab`` is
:mod:`sealer_lab.cli`, a plugin of the product's command line. The product (``sealer``) never
imports this package.
"""

from __future__ import annotations

import importlib
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sealer_lab.hosts import HostStatus, Lab, down, get, reboot, status, up
    from sealer_lab.state import HostState, LabState, lab_dir, lab_root

__all__ = [
    "HostState",
    "HostStatus",
    "Lab",
    "LabState",
    "down",
    "get",
    "lab_dir",
    "lab_root",
    "reboot",
    "status",
    "up",
]

# Imported on first use (PEP 562), so that a command that needs one light module of this
# package does not pay for the others (docs/benchmarks.md, start-up).
_HOMES = MappingProxyType(
    {
        "HostStatus": "sealer_lab.hosts",
        "Lab": "sealer_lab.hosts",
        "down": "sealer_lab.hosts",
        "get": "sealer_lab.hosts",
        "reboot": "sealer_lab.hosts",
        "status": "sealer_lab.hosts",
        "up": "sealer_lab.hosts",
        "HostState": "sealer_lab.state",
        "LabState": "sealer_lab.state",
        "lab_dir": "sealer_lab.state",
        "lab_root": "sealer_lab.state",
    }
)


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(home), name)
