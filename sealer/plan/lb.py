"""What the node-local load balancer on every node should be configured with."""

from __future__ import annotations

from sealer.lb.render import render_config
from sealer.spec.model import Cluster

__all__ = ["desired_lb_config"]


def desired_lb_config(cluster: Cluster) -> str:
    """The care daemon's configuration text for every node of ``cluster``."""
    spec = cluster.spec
    lb = spec.load_balancer
    return render_config(
        spec.vip,
        spec.master_addresses,
        interval=float(lb.interval),
        timeout=float(lb.timeout),
        fall=lb.fall,
        rise=lb.rise,
        backend=lb.backend,
    )
