"""With nodes, the node-local load balancer needs an IPv4 VIP and IPv4 masters."""

from __future__ import annotations

from sealer.spec.load import validate_text

BASE = """apiVersion: sealer.dev/v1alpha1
kind: Cluster
metadata:
  name: lb
spec:
  version: v1.29.3
  masters: {masters}
  nodes: {nodes}
  vip: {vip}
  package: /srv/kube.tar.gz
  ssh:
    privateKey: /k
  network:
    podCIDR: fd01::/48
    serviceCIDR: fd02::/112
"""


def problems(masters: str, nodes: str, vip: str) -> list[str]:
    text = BASE.format(masters=masters, nodes=nodes, vip=vip)
    return [str(p) for p in validate_text(text, "lb.yaml")[1] if p.severity == "error"]


def test_ipv6_vip_with_nodes_is_refused_at_the_vip() -> None:
    found = problems("[10.0.0.2]", "[10.0.0.3]", "fd00::100")
    assert found == [
        "lb.yaml:9:8: spec.vip: the node-local load balancer supports an IPv4 VIP only"
    ]


def test_dns_or_ipv6_master_with_nodes_is_refused_at_the_entry() -> None:
    found = problems("[10.0.0.2, m2.example.com, 'fd00::3']", "[10.0.0.9]", "10.103.97.2")
    assert [f.split(": ", 2)[:2] for f in found] == [
        ["lb.yaml:7:23", "spec.masters[1]"],
        ["lb.yaml:7:39", "spec.masters[2]"],
    ]
    assert "must be IPv4 addresses" in found[0]


def test_without_nodes_there_is_no_load_balancer_to_satisfy() -> None:
    assert problems("['fd00::2', m2.example.com]", "[]", "fd00::100") == []
