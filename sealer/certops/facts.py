"""What renew reads on a master: API readiness, etcd health, listening ports (read only)."""

from __future__ import annotations

from dataclasses import dataclass

from sealer.connect import Result
from sealer.facts import Fact, require_ok
from sealer.kube.paths import API_SERVER_PORT, KUBERNETES_DIR

__all__ = [
    "ADMIN_CONF",
    "MANIFESTS_DIR",
    "STATIC_PODS",
    "Health",
    "StaticPod",
    "api_ready",
    "etcd_healthy",
    "listening_ports",
    "parse_listening_ports",
    "parse_probe",
]

ADMIN_CONF = f"{KUBERNETES_DIR}/admin.conf"
MANIFESTS_DIR = f"{KUBERNETES_DIR}/manifests"
_ETCD_PKI = f"{KUBERNETES_DIR}/pki/etcd"


@dataclass(frozen=True)
class StaticPod:
    """A control-plane static pod: its manifest and the TCP ports it listens on (kubeadm's
    defaults), by which renew sees that the kubelet stopped it and started it again."""

    name: str
    ports: tuple[int, ...]

    @property
    def manifest(self) -> str:
        return f"{MANIFESTS_DIR}/{self.name}.yaml"


STATIC_PODS: tuple[StaticPod, ...] = (
    StaticPod("etcd", (2379, 2380)),
    StaticPod("kube-apiserver", (API_SERVER_PORT,)),
    StaticPod("kube-controller-manager", (10257,)),
    StaticPod("kube-scheduler", (10259,)),
)


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


#: ``/readyz`` of the master's own API server, verified against the cluster CA by name
#: 127.0.0.1 (every API server certificate has that SAN); non-zero unless HTTP 200.
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
    (
        "etcdctl", "--endpoints", "https://127.0.0.1:2379",
        "--cacert", f"{_ETCD_PKI}/ca.crt",
        "--cert", f"{_ETCD_PKI}/healthcheck-client.crt",
        "--key", f"{_ETCD_PKI}/healthcheck-client.key",
        "--command-timeout", "5s", "endpoint", "health",
    ),
    parse_probe,
    timeout=30.0,
)  # fmt: skip


def parse_listening_ports(stdout: str) -> frozenset[int]:
    """Local ports of listening TCP sockets from ``ss -H -l -t -n`` (a header line, printed by
    old versions that ignore ``-H``, is skipped)::

        LISTEN 0      4096       127.0.0.1:2379      0.0.0.0:*
        LISTEN 0      4096               *:6443            *:*
        LISTEN 0      128           [::1]:10257         [::]:*
    """
    ports: set[int] = set()
    for line in stdout.splitlines():
        fields = line.split()
        if len(fields) < 4 or fields[0] == "State":
            continue
        local = fields[3]
        _, sep, port = local.rpartition(":")
        if not sep or not port.isdigit():
            raise ValueError(f"unexpected local address {local!r} in: {line!r}")
        ports.add(int(port))
    return frozenset(ports)


listening_ports: Fact[frozenset[int]] = Fact(
    "listening TCP ports",
    ("ss", "-H", "-l", "-t", "-n"),
    lambda r: parse_listening_ports(require_ok(r)),
)
