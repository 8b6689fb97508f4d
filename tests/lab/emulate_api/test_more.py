"""Server-side apply, watch, the kubernetes Endpoints reconciler, patch types."""

from __future__ import annotations

import json
import ssl
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sealer_lab.emulate.apiserver.patch import json_patch, strategic_merge_patch
from tests.lab.emulate_api.conftest import (
    ApiServer,
    Etcd,
    Kubectl,
    Pki,
    cert_user,
    write_kubeconfig,
)
from tests.lab.emulate_api.test_controllers import eventually
from tests.lab.emulate_api.test_kubectl import node


def test_server_side_apply_creates_then_merges(admin: Kubectl, tmp_path: Path) -> None:
    doc = tmp_path / "cm.yaml"
    doc.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ssa\ndata:\n  a: '1'\n")
    assert "serverside-applied" in admin.run("apply", "--server-side", "-f", str(doc)).stdout
    doc.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ssa\ndata:\n  b: '2'\n")
    admin.run("apply", "--server-side", "-f", str(doc))
    assert admin.json("get", "cm", "ssa")["data"] == {"a": "1", "b": "2"}


def test_watch_streams_added_and_deleted(admin: Kubectl, apiserver: ApiServer, pki: Pki) -> None:
    ctx = ssl.create_default_context(cafile=str(pki.ca.cert))
    ctx.load_cert_chain(str(pki.admin.cert), str(pki.admin.key))
    admin.apply_json({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "w0"}})
    # the watch ends after timeoutSeconds: long enough for two kubectl runs on a loaded machine;
    # read until both events came (or the server ended the watch)
    url = f"{apiserver.url}/api/v1/namespaces/default/configmaps?watch=1&timeoutSeconds=60"
    wanted = [("ADDED", "w1"), ("DELETED", "w0")]
    seen: list[tuple[str, str]] = []
    with urllib.request.urlopen(url, context=ctx, timeout=90) as resp:
        first = json.loads(resp.readline())
        assert (first["type"], first["object"]["metadata"]["name"]) == ("ADDED", "w0")
        admin.apply_json({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "w1"}})
        admin.run("delete", "cm", "w0")
        while not all(w in seen for w in wanted) and (line := resp.readline()):
            if line.strip():
                event = json.loads(line)
                seen.append((event["type"], event["object"]["metadata"]["name"]))
    assert ("ADDED", "w1") in seen, seen
    assert ("DELETED", "w0") in seen, seen


def test_kubernetes_endpoints_follow_live_apiservers(
    admin: Kubectl,
    apiserver: ApiServer,
    etcd: Etcd,
    start_apiserver: Callable[..., ApiServer],
    pki: Pki,
    tmp_path: Path,
) -> None:
    second = start_apiserver(etcd, advertise="127.0.0.2")

    def addresses() -> list[str]:
        doc = admin.json("get", "endpoints", "kubernetes")
        return [a["ip"] for s in doc.get("subsets") or [] for a in s.get("addresses") or []]

    eventually(lambda: addresses() == ["127.0.0.1", "127.0.0.2"], "both apiservers listed")
    second.proc.terminate()
    second.proc.wait(timeout=30)
    eventually(lambda: addresses() == ["127.0.0.1"], "stopped apiserver dropped")
    config = write_kubeconfig(tmp_path / "x.conf", apiserver.url, pki.ca.cert, cert_user(pki.admin))
    assert (
        Kubectl(config, tmp_path / "xc").json("get", "svc", "kubernetes")["spec"]["clusterIP"]
        == "10.96.0.1"
    )


def test_patch_types(admin: Kubectl) -> None:
    admin.apply_json(node("p1"))
    admin.run(
        "patch",
        "node",
        "p1",
        "--type=json",
        "-p",
        '[{"op":"add","path":"/metadata/labels/x","value":"1"}]',
    )
    admin.run("patch", "node", "p1", "--type=merge", "-p", '{"metadata":{"labels":{"y":"2"}}}')
    admin.run("label", "node", "p1", "x-")
    labels = admin.json("get", "node", "p1")["metadata"]["labels"]
    assert labels == {"kubernetes.io/hostname": "p1", "y": "2"}


def test_strategic_merge_keeps_list_items_by_key() -> None:
    old = {
        "status": {
            "conditions": [
                {"type": "Ready", "status": "True"},
                {"type": "DiskPressure", "status": "False"},
            ]
        }
    }
    patch = {"status": {"conditions": [{"type": "Ready", "status": "False"}]}}
    new = strategic_merge_patch(old, patch)
    assert new["status"]["conditions"] == [
        {"type": "Ready", "status": "False"},
        {"type": "DiskPressure", "status": "False"},
    ]
    gone = strategic_merge_patch(
        old, {"status": {"conditions": [{"type": "Ready", "$patch": "delete"}]}}
    )
    assert [c["type"] for c in gone["status"]["conditions"]] == ["DiskPressure"]
    assert strategic_merge_patch(
        {"spec": {"unschedulable": True}}, {"spec": {"unschedulable": None}}
    ) == {"spec": {}}


def test_json_patch_test_op_guards() -> None:
    doc = {"a": [1, 2]}
    assert json_patch(
        doc, [{"op": "test", "path": "/a/0", "value": 1}, {"op": "add", "path": "/a/-", "value": 3}]
    ) == {"a": [1, 2, 3]}
    try:
        json_patch(doc, [{"op": "test", "path": "/a/0", "value": 9}])
    except Exception as exc:  # PatchError
        assert "test failed" in str(exc)
    else:
        raise AssertionError("test op did not fail")


def test_watch_from_a_resource_version_replays_later_changes(
    admin: Kubectl, apiserver: ApiServer, pki: Pki, etcd: Etcd
) -> None:
    ctx = ssl.create_default_context(cafile=str(pki.ca.cert))
    ctx.load_cert_chain(str(pki.admin.cert), str(pki.admin.key))
    admin.apply_json({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "early"}})
    collection = f"{apiserver.url}/api/v1/namespaces/default/configmaps"
    with urllib.request.urlopen(collection, context=ctx) as resp:
        listed = json.loads(resp.read())["metadata"]["resourceVersion"]
    assert int(listed) > 0
    admin.apply_json({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "late"}})
    base = f"{collection}?watch=1&timeoutSeconds=2"
    with urllib.request.urlopen(f"{base}&resourceVersion={listed}", context=ctx) as resp:
        events = [json.loads(line) for line in resp.read().splitlines() if line.strip()]
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in events] == [("ADDED", "late")]
    # once etcd compacted past it, the same resourceVersion is 410 Expired
    from tests.lab.emulate_api.test_etcd import client

    etcd_client = client(etcd, pki)
    etcd_client.compact(etcd_client.revision())
    with urllib.request.urlopen(f"{base}&resourceVersion={listed}", context=ctx) as resp:
        events = [json.loads(line) for line in resp.read().splitlines() if line.strip()]
    assert events[0]["type"] == "ERROR"
    assert events[0]["object"]["code"] == 410
    assert events[0]["object"]["message"].startswith(f"too old resource version: {listed} (")


def test_error_answers_keep_the_connection_usable(apiserver: ApiServer, pki: Pki) -> None:
    import http.client

    ctx = ssl.create_default_context(cafile=str(pki.ca.cert))
    ctx.load_cert_chain(str(pki.admin.cert), str(pki.admin.key))
    conn = http.client.HTTPSConnection("127.0.0.1", apiserver.port, context=ctx)
    body = json.dumps({"metadata": {"name": "x"}, "padding": "y" * 5000})
    headers = {"Content-Type": "application/json"}
    for path in ("/api/v1/nosuchthings", "/apis/nosuch.group/v1/things", "/api/v1/nodes/x/bad"):
        conn.request("POST", path, body, headers)
        resp = conn.getresponse()
        assert resp.status == 404
        assert json.loads(resp.read())["kind"] == "Status"
        conn.request("GET", "/version")
        resp = conn.getresponse()
        assert (resp.status, json.loads(resp.read())["gitVersion"]) == (200, "v1.29.3")
    conn.close()


def test_secret_string_data_is_stored_as_data(admin: Kubectl) -> None:
    admin.run("create", "secret", "generic", "s1", "--from-literal=k=v")
    admin.apply_json(
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s2"}, "stringData": {"a": "b"}}
    )
    assert admin.json("get", "secret", "s1")["data"] == {"k": "dg=="}
    s2 = admin.json("get", "secret", "s2")
    assert s2["data"] == {"a": "Yg=="}
    assert "stringData" not in s2


def test_aggregated_discovery_by_emulated_version(
    etcd: Etcd, start_apiserver: Callable[..., ApiServer], pki: Pki
) -> None:
    ctx = ssl.create_default_context(cafile=str(pki.ca.cert))
    ctx.load_cert_chain(str(pki.admin.cert), str(pki.admin.key))
    accept = (
        "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,"
        "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,"
        "application/json"
    )

    def get(server: ApiServer, path: str) -> tuple[str, dict[str, Any]]:
        req = urllib.request.Request(server.url + path, headers={"Accept": accept})
        with urllib.request.urlopen(req, context=ctx) as resp:
            return resp.headers["Content-Type"], json.loads(resp.read())

    new = start_apiserver(etcd, "v1.32.0")
    kind, doc = get(new, "/apis")
    assert kind == "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
    groups = {i["metadata"]["name"]: i for i in doc["items"]}
    apps = groups["apps"]["versions"][0]["resources"]
    assert {"resource": "daemonsets", "scope": "Namespaced"}.items() <= apps[0].items()
    kind, core = get(new, "/api")
    pods = next(r for r in core["items"][0]["versions"][0]["resources"] if r["resource"] == "pods")
    eviction = next(s for s in pods["subresources"] if s["subresource"] == "eviction")
    assert eviction["responseKind"] == {"group": "policy", "version": "v1", "kind": "Eviction"}
    old = start_apiserver(etcd, "v1.29.3")
    kind, doc = get(old, "/apis")
    assert kind == "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList"
    legacy = start_apiserver(etcd, "v1.25.0")
    kind, doc = get(legacy, "/apis")
    assert (kind, doc["kind"]) == ("application/json", "APIGroupList")
