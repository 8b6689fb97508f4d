"""A lab ready for sealer: hosts (``sealer_lab.up``) plus the emulated Kubernetes package.

This is the one place that joins the host layer (which knows nothing of Kubernetes) and the
emulation: it puts the emulated ``systemctl``/``lab-boot`` into the lab-wide sbin directory
and builds the offline package the lab's Clusterfile points at.
"""

from __future__ import annotations

from typing import Any

from sealer_lab.hosts import Lab, up
from sealer_lab.package import build_package, install_sbin, package_name

__all__ = ["up_kubernetes_lab"]


def up_kubernetes_lab(
    name: str, masters: int, nodes: int, *, version: str = "v1.29.3", **options: Any
) -> Lab:
    """``sealer lab up``: hosts, the emulated systemd on them, and the package."""
    lab = up(name, masters, nodes, version=version, **options)
    install_sbin(lab.sbin_dir, version)
    # kube<version>.tar.gz, where the Clusterfile points. Built once: re-running `lab up` to
    # add hosts must not change the package under a running cluster (`lab package` rebuilds).
    if not (lab.dir / package_name(version)).exists():
        build_package(version, lab.dir)
    return lab
