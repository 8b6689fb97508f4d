"""``host:port`` as kubeadm and kubeconfigs write it (stdlib only: the Clusterfile's checks use
it through :mod:`sealer.kube.kubeadm_config` without loading the PKI's cryptography)."""

from __future__ import annotations

import ipaddress

from sealer.layout import API_SERVER_PORT

__all__ = ["endpoint"]


def endpoint(host: str, port: int = API_SERVER_PORT) -> str:
    """``host:port``, with brackets around an IPv6 address."""
    try:
        version = ipaddress.ip_address(host).version
    except ValueError:
        version = None
    return f"[{host}]:{port}" if version == 6 else f"{host}:{port}"
