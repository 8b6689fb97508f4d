"""Health endpoints follow etcd; several apiservers on one etcd answer alike."""

from __future__ import annotations

from collections.abc import Callable

from tests.lab.emulate_api.conftest import ApiServer, Etcd, Kubectl, Pki, wait_ready
from tests.lab.emulate_api.test_auth import call
from tests.lab.emulate_api.test_kubectl import node


def test_etcd_down_makes_readyz_and_healthz_fail(
    admin: Kubectl, apiserver: ApiServer, etcd: Etcd, pki: Pki
) -> None:
    code, body = call(apiserver, pki, "/readyz?verbose")
    assert code == 200
    assert "[+]etcd ok" in body
    assert body.rstrip().endswith("readyz check passed")
    etcd.stop()
    for path in ("/readyz", "/healthz"):
        code, body = call(apiserver, pki, path)
        assert code == 500, path
        assert "[-]etcd failed: reason withheld" in body
    assert call(apiserver, pki, "/readyz/etcd")[0] == 500
    assert call(apiserver, pki, "/livez")[0] == 200  # liveness does not follow etcd (doc)
    failed = admin.run("get", "nodes", check=False)
    assert failed.returncode == 1
    assert "InternalError" in failed.stderr or "Internal error" in failed.stderr
    etcd.start()
    wait_ready(apiserver.url, apiserver.proc, pki.ca.cert, apiserver.log)
    assert call(apiserver, pki, "/healthz") == (200, "ok")


def test_two_apiservers_share_one_etcd(
    admin: Kubectl,
    apiserver: ApiServer,
    etcd: Etcd,
    start_apiserver: Callable[..., ApiServer],
) -> None:
    second = start_apiserver(etcd)
    other_config = admin.kubeconfig.parent / "second.conf"
    other_config.write_text(admin.kubeconfig.read_text().replace(apiserver.url, second.url))
    other = Kubectl(other_config, admin.cache.parent / "cache2")
    admin.apply_json(node("m1"))
    admin.run("cordon", "m1")
    one = admin.json("get", "node", "m1")
    two = other.json("get", "node", "m1")
    assert one == two
    assert one["spec"]["unschedulable"] is True
    other.run("uncordon", "m1")  # a write through the second is read back through the first
    assert "unschedulable" not in admin.json("get", "node", "m1")["spec"]
    assert (
        admin.json("get", "node", "m1")["metadata"]["resourceVersion"]
        == other.json("get", "node", "m1")["metadata"]["resourceVersion"]
    )
