"""The real kubectl against the emulated kube-apiserver backed by a real etcd."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.lab.emulate_api.conftest import (
    ApiServer,
    Etcd,
    Kubectl,
    Pki,
    cert_user,
    write_kubeconfig,
)
from tests.waiting import wait_for


def stamp(seconds_ago: float = 0) -> str:
    when = datetime.datetime.now(datetime.UTC) - datetime.timedelta(seconds=seconds_ago)
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def node(name: str, heartbeat_age: float = 0, roles: tuple[str, ...] = ()) -> dict[str, Any]:
    labels = {"kubernetes.io/hostname": name}
    labels |= {f"node-role.kubernetes.io/{r}": "" for r in roles}
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": labels},
        "status": {
            "conditions": [
                {
                    "type": "Ready",
                    "status": "True",
                    "reason": "KubeletReady",
                    "message": "kubelet is posting ready status",
                    "lastHeartbeatTime": stamp(heartbeat_age),
                    "lastTransitionTime": stamp(3600),
                }
            ],
            "addresses": [{"type": "InternalIP", "address": "10.0.0.1"}],
            "nodeInfo": {"kubeletVersion": "v1.29.3"},
        },
    }


def pod(name: str, node_name: str, namespace: str = "default", **meta: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, **meta},
        "spec": {
            "nodeName": node_name,
            "containers": [{"name": "c", "image": "registry.k8s.io/pause:3.9"}],
        },
    }


def table(kube: Kubectl, *args: str) -> list[list[str]]:
    lines = kube.run("get", *args).stdout.strip().splitlines()
    return [line.split() for line in lines]


@pytest.mark.parametrize("version", ["v1.29.3", "v1.30.2", "v1.31.4", "v1.32.0"])
def test_get_cordon_drain_delete(
    version: str,
    etcd: Etcd,
    start_apiserver: Callable[..., ApiServer],
    pki: Pki,
    tmp_path: Path,
) -> None:
    server = start_apiserver(etcd, version)
    config = write_kubeconfig(tmp_path / "a.conf", server.url, pki.ca.cert, cert_user(pki.admin))
    kube = Kubectl(config, tmp_path / "cache")
    assert f"Server Version: {version}" in kube.run("version").stdout

    kube.apply_json(node("m1", roles=("control-plane",)))
    kube.apply_json(node("w1"))
    rows = table(kube, "nodes")
    assert rows[0] == ["NAME", "STATUS", "ROLES", "AGE", "VERSION"]
    assert rows[1][:3] == ["m1", "Ready", "control-plane"]
    assert rows[2][:3] == ["w1", "Ready", "<none>"]
    assert rows[1][4] == "v1.29.3"

    doc = kube.json("get", "nodes")
    assert doc["kind"] == "List" or doc["kind"] == "NodeList"
    assert [n["metadata"]["name"] for n in doc["items"]] == ["m1", "w1"]
    assert all(n["apiVersion"] == "v1" and n["kind"] == "Node" for n in doc["items"])
    assert int(doc["items"][0]["metadata"]["resourceVersion"]) > 0

    kube.run("cordon", "w1")
    assert table(kube, "nodes", "w1")[1][1] == "Ready,SchedulingDisabled"
    assert kube.json("get", "node", "w1")["spec"]["unschedulable"] is True
    kube.run("uncordon", "w1")
    assert table(kube, "nodes", "w1")[1][1] == "Ready"
    assert "unschedulable" not in kube.json("get", "node", "w1").get("spec", {})

    kube.apply_json(pod("a", "w1"))
    kube.apply_json(pod("b", "w1", namespace="kube-system"))
    kube.apply_json(pod("c", "m1"))
    # drain leaves mirror pods (static pods) and DaemonSet pods alone
    mirror = {"kubernetes.io/config.mirror": "abc", "kubernetes.io/config.source": "file"}
    kube.apply_json(pod("etcd-w1", "w1", namespace="kube-system", annotations=mirror))
    ds = {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": "kube-proxy", "namespace": "kube-system"},
        "spec": {
            "selector": {"matchLabels": {"k8s-app": "kube-proxy"}},
            "template": {
                "metadata": {"labels": {"k8s-app": "kube-proxy"}},
                "spec": {"containers": [{"name": "p", "image": "kube-proxy"}]},
            },
        },
    }
    kube.apply_json(ds)

    def daemon_pod_on_w1() -> str | None:
        pods = kube.json("get", "pods", "-n", "kube-system", "-l", "k8s-app=kube-proxy")["items"]
        names = [p["metadata"]["name"] for p in pods if p["spec"].get("nodeName") == "w1"]
        return names[0] if names else None

    # the DaemonSet controller gives w1 (and m1) a kube-proxy pod
    proxy = wait_for("the DaemonSet's pod on w1", daemon_pod_on_w1, timeout=60, interval=0.2)
    assert table(kube, "pods", "-A")[0] == [
        "NAMESPACE",
        "NAME",
        "READY",
        "STATUS",
        "RESTARTS",
        "AGE",
    ]
    out = kube.run(
        "drain", "w1", "--ignore-daemonsets", "--delete-emptydir-data", "--force", "--timeout=60s"
    )
    assert "node/w1 drained" in out.stdout
    left = kube.json("get", "pods", "-A")["items"]
    assert [
        (p["metadata"]["namespace"], p["metadata"]["name"])
        for p in left
        if p["spec"].get("nodeName") != "m1" or p["metadata"]["name"] == "c"
    ] == [("default", "c"), ("kube-system", "etcd-w1"), ("kube-system", proxy)]
    assert table(kube, "nodes", "w1")[1][1] == "Ready,SchedulingDisabled"

    kube.run("delete", "node", "w1")
    assert [n["metadata"]["name"] for n in kube.json("get", "nodes")["items"]] == ["m1"]
    # pod GC: pods bound to a deleted node go with it
    left = kube.json("get", "pods", "-A")["items"]
    assert [p["metadata"]["name"] for p in left if p["spec"].get("nodeName") != "m1"] == []
    assert "c" in [p["metadata"]["name"] for p in left]
    missing = kube.run("get", "node", "w1", check=False)
    assert missing.returncode == 1
    assert 'nodes "w1" not found' in missing.stderr


def test_stale_heartbeat_reads_not_ready(admin: Kubectl) -> None:
    admin.apply_json(node("old", heartbeat_age=120))
    admin.apply_json(node("fresh", heartbeat_age=0))
    admin.apply_json(node("leased", heartbeat_age=300))
    lease = {
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": {"name": "leased", "namespace": "kube-node-lease"},
        "spec": {
            "holderIdentity": "leased",
            "leaseDurationSeconds": 40,
            "renewTime": stamp(1).replace("Z", ".000000Z"),
        },
    }
    admin.apply_json(lease)
    status = {row[0]: row[1] for row in table(admin, "nodes")[1:]}
    assert status == {"old": "NotReady", "fresh": "Ready", "leased": "Ready"}
    ready = next(
        c for c in admin.json("get", "node", "old")["status"]["conditions"] if c["type"] == "Ready"
    )
    assert ready["status"] == "Unknown"
    assert ready["reason"] == "NodeStatusUnknown"


def test_node_delete_removes_its_lease(admin: Kubectl) -> None:
    admin.apply_json(node("gone"))
    admin.apply_json(
        {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": {"name": "gone", "namespace": "kube-node-lease"},
            "spec": {"holderIdentity": "gone"},
        }
    )
    assert admin.json("get", "lease", "-n", "kube-node-lease")["items"]
    admin.run("delete", "node", "gone")
    assert admin.json("get", "lease", "-n", "kube-node-lease")["items"] == []


def test_conflict_on_stale_resource_version(admin: Kubectl) -> None:
    admin.apply_json({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm"}})
    first = admin.json("get", "cm", "cm")
    admin.run("label", "cm", "cm", "x=1")
    first["data"] = {"k": "v"}
    import json

    out = admin.run("replace", "-f", "-", input=json.dumps(first), check=False)
    assert out.returncode == 1
    assert "the object has been modified" in out.stderr
    assert admin.json("get", "cm", "cm")["metadata"]["labels"] == {"x": "1"}
