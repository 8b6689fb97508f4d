"""The Clusterfile and identities the planner's and the steps' fast tests share."""

from __future__ import annotations

from sealer.facts.identity import ClusterIdentity
from sealer.spec.model import Cluster

VERSION = "v1.29.3"
M = ["10.9.0.2", "10.9.0.3", "10.9.0.4"]
N = ["10.9.0.5", "10.9.0.6"]
GONE = "10.9.0.9"  # a host the cluster has and the file no longer lists
DOMAIN = "apiserver.cluster.local"
IDENTITY = ClusterIdentity("t", "0b7c4c38-3e7a-4f55-9d8e-5b0e5b1f9a11", "2026-01-01T00:00:00Z")
OTHER = ClusterIdentity("t", "11111111-2222-4333-8444-555555555555", "2025-01-01T00:00:00Z")


def cluster(masters: list[str] = M, nodes: list[str] = N) -> Cluster:
    return Cluster.model_validate(
        {
            "apiVersion": "sealer.dev/v1alpha1",
            "kind": "Cluster",
            "metadata": {"name": "t"},
            "spec": {
                "version": VERSION,
                "masters": masters,
                "nodes": nodes,
                "package": "/tmp/kube.tar.gz",
                "ssh": {"privateKey": "/k"},
                # ECDSA keys: issuing a master's PKI takes milliseconds, not seconds
                "certificates": {"keyAlgorithm": "ecdsa-p256"},
            },
        }
    )
