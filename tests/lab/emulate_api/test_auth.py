"""Authentication and authorization: client certificates, bootstrap tokens, anonymous."""

from __future__ import annotations

import base64
import datetime
import json
import ssl
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from tests.lab.emulate_api.conftest import (
    ApiServer,
    Kubectl,
    Pki,
    cert_user,
    make_leaf,
    write_kubeconfig,
)
from tests.lab.emulate_api.test_kubectl import node, stamp


def call(
    server: ApiServer,
    pki: Pki,
    path: str,
    token: str = "",
    method: str = "GET",
    body: Any = None,
) -> tuple[int, str]:
    ctx = ssl.create_default_context(cafile=str(pki.ca.cert))
    headers = {"Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    req = urllib.request.Request(server.url + path, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(req, context=ctx, timeout=10) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


def token_secret(token_id: str, secret: str, expiration: str = "", **extra: str) -> dict[str, Any]:
    data = {
        "token-id": token_id,
        "token-secret": secret,
        "usage-bootstrap-authentication": "true",
        "usage-bootstrap-signing": "true",
        "auth-extra-groups": "system:bootstrappers:kubeadm:default-node-token",
        **extra,
    }
    if expiration:
        data["expiration"] = expiration
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "bootstrap.kubernetes.io/token",
        "metadata": {"name": f"bootstrap-token-{token_id}", "namespace": "kube-system"},
        "data": {k: base64.b64encode(v.encode()).decode() for k, v in data.items()},
    }


def cluster_info(server: ApiServer, pki: Pki) -> dict[str, Any]:
    kubeconfig = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": "",
                "cluster": {
                    "server": server.url,
                    "certificate-authority-data": base64.b64encode(
                        pki.ca.cert.read_bytes()
                    ).decode(),
                },
            }
        ],
    }
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "cluster-info", "namespace": "kube-public"},
        "data": {"kubeconfig": json.dumps(kubeconfig)},
    }


def test_anonymous_may_only_read_health_version_and_cluster_info(
    admin: Kubectl, apiserver: ApiServer, pki: Pki
) -> None:
    for path in ("/healthz", "/readyz", "/livez", "/version"):
        assert call(apiserver, pki, path)[0] == 200, path
    assert call(apiserver, pki, "/readyz")[1] == "ok"
    code, body = call(apiserver, pki, "/api/v1/namespaces/kube-public/configmaps/cluster-info")
    assert code == 404  # allowed, not created yet
    admin.apply_json(cluster_info(apiserver, pki))
    code, body = call(apiserver, pki, "/api/v1/namespaces/kube-public/configmaps/cluster-info")
    assert code == 200
    assert json.loads(body)["data"]["kubeconfig"]
    for path in (
        "/api/v1/nodes",
        "/api/v1/namespaces/kube-public/configmaps",
        "/api/v1/namespaces/kube-system/secrets",
        "/api",
    ):
        code, body = call(apiserver, pki, path)
        assert code == 403, path
        assert 'User "system:anonymous" cannot' in json.loads(body)["message"]


def test_bootstrap_token_allowed_denied_and_expired(
    admin: Kubectl, apiserver: ApiServer, pki: Pki
) -> None:
    admin.apply_json(token_secret("abcdef", "0123456789abcdef"))
    admin.apply_json(token_secret("expire", "0123456789abcdef", expiration=stamp(10)))
    admin.apply_json(node("m1"))
    good = "abcdef.0123456789abcdef"
    assert call(apiserver, pki, "/api/v1/nodes/m1", good)[0] == 200
    code, body = call(apiserver, pki, "/api/v1/namespaces/kube-system/secrets", good)
    assert code == 403
    assert json.loads(body)["message"] == (
        'secrets is forbidden: User "system:bootstrap:abcdef" cannot list resource "secrets" '
        'in API group "" in the namespace "kube-system"'
    )
    for bad in ("abcdef.0123456789abcdeX", "abcdef.ffffffffffffffff", "expire.0123456789abcdef"):
        code, body = call(apiserver, pki, "/api/v1/nodes/m1", bad)
        assert code == 401, bad
        assert json.loads(body)["reason"] == "Unauthorized"


def test_bootstrap_token_kubeconfig_with_kubectl(
    admin: Kubectl, apiserver: ApiServer, pki: Pki, tmp_path: Path
) -> None:
    admin.apply_json(token_secret("abcdef", "0123456789abcdef"))
    config = write_kubeconfig(
        tmp_path / "boot.conf", apiserver.url, pki.ca.cert, {"token": "abcdef.0123456789abcdef"}
    )
    boot = Kubectl(config, tmp_path / "bcache")
    assert boot.run("get", "nodes").returncode == 0
    denied = boot.run("get", "secrets", "-n", "kube-system", check=False)
    assert denied.returncode == 1
    assert "forbidden" in denied.stderr


def test_node_identity_limited_to_own_objects(
    admin: Kubectl, apiserver: ApiServer, pki: Pki, tmp_path: Path
) -> None:
    pair = make_leaf(tmp_path, "kubelet", pki.ca, "system:node:w1", ("system:nodes",), client=True)
    config = write_kubeconfig(
        tmp_path / "kubelet.conf", apiserver.url, pki.ca.cert, cert_user(pair)
    )
    kubelet = Kubectl(config, tmp_path / "kcache")
    kubelet.apply_json(node("w1"))
    admin.apply_json(node("w2"))
    assert kubelet.run("label", "node", "w1", "a=b").returncode == 0
    other = kubelet.run("label", "node", "w2", "a=b", check=False)
    assert other.returncode == 1
    assert "forbidden" in other.stderr
    lease = {
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": {"name": "w1", "namespace": "kube-node-lease"},
        "spec": {"holderIdentity": "w1"},
    }
    kubelet.apply_json(lease)
    lease["metadata"]["name"] = "w2"
    assert kubelet.run("create", "-f", "-", input=json.dumps(lease), check=False).returncode == 0
    assert (
        kubelet.run("delete", "lease", "-n", "kube-node-lease", "w2", check=False).returncode == 1
    )
    assert kubelet.run("get", "secrets", "-A", check=False).returncode == 1


def test_an_expired_client_certificate_is_401_not_a_failed_handshake(
    apiserver: ApiServer, pki: Pki, tmp_path: Path
) -> None:
    """As the real API server's x509 authenticator: the handshake succeeds, the request is
    Unauthorized (even though anonymous requests are allowed here), and a valid certificate
    of the same user works."""
    past = datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=1)
    expired = make_leaf(tmp_path, "old", pki.ca, "dev", ("system:masters",), client=True,
                        not_after=past)  # fmt: skip
    config = write_kubeconfig(tmp_path / "old.conf", apiserver.url, pki.ca.cert, cert_user(expired))
    old = Kubectl(config, tmp_path / "kcache-old").run("get", "nodes", check=False)
    assert old.returncode == 1
    assert "You must be logged in to the server" in old.stderr, old.stderr  # 401
    valid = make_leaf(tmp_path, "new", pki.ca, "dev", ("system:masters",), client=True)
    config = write_kubeconfig(tmp_path / "new.conf", apiserver.url, pki.ca.cert, cert_user(valid))
    assert Kubectl(config, tmp_path / "kcache-new").run("get", "nodes").returncode == 0


def test_rbac_binding_in_etcd_grants_kubeadm_cluster_admins(
    admin: Kubectl, apiserver: ApiServer, pki: Pki, tmp_path: Path
) -> None:
    """kubeadm >= 1.29 admin.conf is O=kubeadm:cluster-admins, bound to cluster-admin by RBAC."""
    pair = make_leaf(
        tmp_path, "adm", pki.ca, "kubernetes-admin", ("kubeadm:cluster-admins",), client=True
    )
    config = write_kubeconfig(tmp_path / "adm.conf", apiserver.url, pki.ca.cert, cert_user(pair))
    adm = Kubectl(config, tmp_path / "acache")
    assert adm.run("get", "secrets", "-A", check=False).returncode == 1
    admin.apply_json(
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": "kubeadm:cluster-admins"},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": "cluster-admin",
            },
            "subjects": [
                {
                    "apiGroup": "rbac.authorization.k8s.io",
                    "kind": "Group",
                    "name": "kubeadm:cluster-admins",
                }
            ],
        }
    )
    assert adm.run("get", "secrets", "-A").returncode == 0


def test_kubectl_auth_can_i_whoami_and_impersonation(
    admin: Kubectl, apiserver: ApiServer, pki: Pki, tmp_path: Path
) -> None:
    assert admin.run("auth", "can-i", "delete", "nodes").stdout.strip() == "yes"
    who = admin.run("auth", "whoami").stdout
    assert "kubernetes-admin" in who and "system:masters" in who
    as_node = ["--as=system:node:w1", "--as-group=system:nodes"]
    assert admin.run("auth", "can-i", "get", "nodes", *as_node).stdout.strip() == "yes"
    denied = admin.run("auth", "can-i", "list", "secrets", "-A", *as_node, check=False)
    assert (denied.returncode, denied.stdout.strip()) == (1, "no")
    forbidden = admin.run("get", "secrets", "-A", *as_node, check=False)
    assert 'User "system:node:w1" cannot list resource "secrets"' in forbidden.stderr
    # a non-admin may not impersonate
    pair = make_leaf(tmp_path, "jane", pki.ca, "jane", ("devs",), client=True)
    config = write_kubeconfig(tmp_path / "jane.conf", apiserver.url, pki.ca.cert, cert_user(pair))
    jane = Kubectl(config, tmp_path / "jc")
    out = jane.run("get", "nodes", "--as=kubernetes-admin", check=False)
    assert out.returncode == 1
    assert "Error from server (Forbidden)" in out.stderr
