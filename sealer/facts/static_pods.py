"""What renew and restore read on a master besides its health (:mod:`sealer.facts.health`): the
control-plane static pods and the TCP ports they listen on (read only)."""

from __future__ import annotations

from dataclasses import dataclass

from sealer.facts.base import Fact, require_ok
from sealer.layout import API_SERVER_PORT, MANIFESTS_DIR

__all__ = ["STATIC_PODS", "StaticPod", "listening_ports", "parse_listening_ports"]


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
