"""The master that cluster-wide commands run on, and kubectl's argv there (with the admin
kubeconfig): what join-node, drain and delete-node ask the API server."""

from __future__ import annotations

from sealer.layout import ADMIN_CONF
from sealer.steps.target import Target

__all__ = ["api_master", "kubectl"]


def api_master(target: Target) -> str:
    """The master whose API server and kubeadm the run uses for cluster-wide commands."""
    return target.live.api_host or target.cluster.spec.master0


def kubectl(*args: str) -> list[str]:
    """``kubectl --kubeconfig ADMIN_CONF ARGS``: run it on :func:`api_master`."""
    return ["kubectl", "--kubeconfig", ADMIN_CONF, *args]
