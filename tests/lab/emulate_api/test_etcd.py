"""The etcd side, in process against the real TLS etcd: storage layout and compaction."""

from __future__ import annotations

import base64
import json
import threading

import pytest

from sealer_lab.emulate.apiserver.controllers import Controllers
from sealer_lab.emulate.apiserver.etcd import EtcdClient, EtcdUnavailable
from sealer_lab.emulate.apiserver.resources import find_resource
from sealer_lab.emulate.apiserver.store import Store
from tests.lab.emulate_api.conftest import Etcd, Pki


def client(etcd: Etcd, pki: Pki) -> EtcdClient:
    return EtcdClient(
        (etcd.url,), str(pki.etcd_ca.cert), str(pki.etcd_client.cert), str(pki.etcd_client.key)
    )


def test_objects_live_under_the_real_registry_keys(etcd: Etcd, pki: Pki) -> None:
    store = Store(client(etcd, pki))
    nodes = find_resource("", "v1", "nodes")
    leases = find_resource("coordination.k8s.io", "v1", "leases")
    namespaces = find_resource("", "v1", "namespaces")
    assert nodes is not None and leases is not None and namespaces is not None
    store.create(namespaces, "", {"metadata": {"name": "kube-node-lease"}})
    created = store.create(nodes, "", {"metadata": {"name": "n1"}})
    store.create(leases, "kube-node-lease", {"metadata": {"name": "n1"}})
    kv = store.etcd.get("/registry/minions/n1")
    assert kv is not None
    assert str(kv.mod_revision) == created["metadata"]["resourceVersion"]
    stored = json.loads(kv.value)
    assert "resourceVersion" not in stored["metadata"]
    assert stored["kind"] == "Node"
    assert store.etcd.get("/registry/leases/kube-node-lease/n1") is not None


def test_compaction_keeps_one_interval_of_history(etcd: Etcd, pki: Pki) -> None:
    etcd_client = client(etcd, pki)
    controllers = Controllers(
        Store(etcd_client), "", "", 6443, "", "", threading.Event(), compaction_interval=300
    )
    key = base64.b64encode(b"/registry/configmaps/default/x").decode()
    etcd_client.call("/v3/kv/put", {"key": key, "value": base64.b64encode(b"1").decode()})
    controllers.compact(now=10**9)  # first interval: only records the revision
    first = etcd_client.revision()
    etcd_client.call("/v3/kv/put", {"key": key, "value": base64.b64encode(b"2").decode()})
    old = {"key": key, "revision": str(first - 1)}
    etcd_client.call("/v3/kv/range", old)  # history still there
    controllers.compact(now=10**9 + 100)  # not due yet
    etcd_client.call("/v3/kv/range", old)
    controllers.compact(now=10**9 + 301)
    with pytest.raises(EtcdUnavailable, match="compacted"):
        etcd_client.call("/v3/kv/range", old)
    etcd_client.compact(first)  # repeating a compaction (another apiserver) is not an error
