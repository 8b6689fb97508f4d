"""The lab: several real SSH hosts on one machine, made of Linux namespaces.

Each host is a network namespace on a bridge of its own lab, with its own PID (tini as PID 1),
mount, UTS and IPC namespaces, private /etc, /root, /var/lib/kubelet..., and the system's sshd.
See docs/lab.md. The host layer (this module's API) knows nothing about Kubernetes; the emulated
Kubernetes is :mod:`sealer_lab.emulate` (docs/lab-emulation.md), ``sealer lab`` is
:mod:`sealer_lab.cli`, a plugin of the product's command line. The product (``sealer``) never
imports this package.
"""

from __future__ import annotations

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
