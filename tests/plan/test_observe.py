"""What observe hands to the kubeadm configuration (pure parts, no hosts)."""

from __future__ import annotations

from sealer.kube.kubeadm_config import render_kubeadm_config
from sealer.plan.observe import _kube_facts
from sealer.plan.state import LiveHost
from sealer.spec.model import Cluster

NODE = "n1.example.com"


def dns_cluster() -> Cluster:
    return Cluster.model_validate(
        {
            "apiVersion": "sealer.dev/v1alpha1",
            "kind": "Cluster",
            "metadata": {"name": "t"},
            "spec": {
                "version": "v1.29.3",
                "masters": ["10.9.0.2"],
                "nodes": [NODE],
                "package": "/tmp/kube.tar.gz",
                "ssh": {"privateKey": "/k"},
            },
        }
    )


def test_a_host_named_by_dns_advertises_the_address_it_resolved_to() -> None:
    c = dns_cluster()
    state = LiveHost(NODE, reachable=True, hostname="n1")
    facts = _kube_facts(c, state, None, "10.9.0.7")  # what observe passes after resolving

    rendered = render_kubeadm_config(c, NODE, facts)

    assert facts.ip == "10.9.0.7"
    assert "10.9.0.7" in rendered.to_yaml()
