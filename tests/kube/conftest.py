"""Fixtures for the kube tests: Clusterfiles, generated PKI written to temporary dirs."""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from sealer.kube.pki import ClusterCA, PkiFile, issue_master_pki, write_files
from sealer.spec.model import Cluster

MASTERS = ["192.168.10.11", "192.168.10.12", "192.168.10.13"]
NODES = ["192.168.10.21"]

MakeCluster = Callable[..., Cluster]


def cluster_doc(version: str = "v1.29.3", **spec: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "version": version,
        "masters": list(MASTERS),
        "nodes": list(NODES),
        "package": "/tmp/kube.tar.gz",
        "network": {
            "serviceCIDR": "10.96.0.0/12",
            "certSANs": ["k8s.example.com", "203.0.113.7"],
        },
    }
    body.update(spec)
    return {
        "apiVersion": "sealer.dev/v1alpha1",
        "kind": "Cluster",
        "metadata": {"name": "demo"},
        "spec": body,
    }


@pytest.fixture
def make_cluster() -> MakeCluster:
    def make(version: str = "v1.29.3", **spec: Any) -> Cluster:
        return Cluster.model_validate(cluster_doc(version, **spec))

    return make


@pytest.fixture(scope="session")
def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


@pytest.fixture
def workdir() -> Iterator[Path]:
    """A private directory removed after the test, even when it fails."""
    with tempfile.TemporaryDirectory(prefix="sealer-kube-") as name:
        yield Path(name)


Issued = tuple[Cluster, ClusterCA, dict[str, PkiFile], Path]


@pytest.fixture(scope="session", params=["rsa-2048", "ecdsa-p256"])
def issued(request: pytest.FixtureRequest) -> Iterator[Issued]:
    """master0's PKI for both key algorithms, also written to a directory."""
    cluster = Cluster.model_validate(cluster_doc(certificates={"keyAlgorithm": request.param}))
    ca = ClusterCA.generate(cluster.spec)
    files = issue_master_pki(ca, cluster, MASTERS[0], "Master-1")
    with tempfile.TemporaryDirectory(prefix=f"sealer-pki-{request.param}-") as name:
        root = Path(name)
        write_files(root, files)
        yield cluster, ca, files, root
