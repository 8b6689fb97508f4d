"""A master's own health: its API server's ``/readyz`` and its etcd member (read only).

The one readiness probe: ``init`` and ``join-master`` ask it whether the control plane runs
on a host, and ``certs renew`` whether a master is healthy before and after its restart.
"""

from __future__ import annotations

from dataclasses import dataclass

from sealer.connect import Result
from sealer.facts.base import Fact
from sealer.facts.cluster import ETCDCTL
from sealer.layout import ADMIN_CONF, API_SERVER_PORT

__all__ = ["Health", "api_ready", "etcd_healthy", "parse_probe"]


@dataclass(frozen=True)
class Health:
    """The outcome of one probe: ok, or why not (the last line the tool printed)."""

    ok: bool
    detail: str = ""


_DETAIL = 160


def parse_probe(result: Result) -> Health:
    """Exit status 0 is healthy; otherwise the last line of stderr (or stdout) says why::

    Error from server (InternalError): an error on the server ("[-]etcd failed") has
    prevented the request from succeeding
    """
    if result.ok:
        return Health(True)
    lines = (result.stderr.strip() or result.stdout.strip()).splitlines()
    last = lines[-1] if lines else f"exit status {result.exit_status}"
    return Health(False, last if len(last) <= _DETAIL else last[: _DETAIL - 3] + "...")


#: ``/readyz`` of the host's own API server (not whatever the API domain resolves to right
#: now), verified against the cluster CA by name 127.0.0.1 (every API server certificate has
#: that SAN); non-zero unless HTTP 200. Ready includes its etcd member.
api_ready: Fact[Health] = Fact(
    "API server readiness",
    (
        "kubectl", "--kubeconfig", ADMIN_CONF, "--server", f"https://127.0.0.1:{API_SERVER_PORT}",
        "--request-timeout", "5s", "get", "--raw", "/readyz",
    ),
    parse_probe,
    timeout=30.0,
)  # fmt: skip

#: The master's own etcd member, over TLS with the health-check client certificate.
etcd_healthy: Fact[Health] = Fact(
    "etcd health",
    (*ETCDCTL, "--command-timeout", "5s", "endpoint", "health"),
    parse_probe,
    timeout=30.0,
)
