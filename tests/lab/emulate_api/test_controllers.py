"""The controllers in miniature: CSR approve+sign, cluster-info JWS signer, token cleaner."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.lab.emulate_api.conftest import ApiServer, Kubectl, Pki, write_kubeconfig
from tests.lab.emulate_api.test_auth import call, cluster_info, token_secret
from tests.lab.emulate_api.test_kubectl import node, stamp
from tests.waiting import wait_for


def eventually(check: Callable[[], Any], what: str, timeout: float = 60.0) -> Any:
    """Poll until ``check`` returns something truthy (controllers run every 2 s)."""
    return wait_for(what, lambda: check() or None, timeout=timeout, interval=0.2)


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def verify_detached_jws(jws: str, content: str, token_id: str, secret: str) -> bool:
    """What kubeadm join's token discovery does with jws-kubeconfig-<id>."""
    header, payload, signature = jws.split(".")
    assert payload == ""
    assert json.loads(_b64url_decode(header)) == {"alg": "HS256", "kid": token_id}
    body = base64.urlsafe_b64encode(content.encode()).rstrip(b"=").decode()
    expected = hmac.new(secret.encode(), f"{header}.{body}".encode(), hashlib.sha256).digest()
    return hmac.compare_digest(expected, _b64url_decode(signature))


def test_cluster_info_signed_for_each_signing_token(
    admin: Kubectl, apiserver: ApiServer, pki: Pki
) -> None:
    admin.apply_json(cluster_info(apiserver, pki))
    admin.apply_json(token_secret("abcdef", "0123456789abcdef"))
    admin.apply_json(
        token_secret("nosign", "0123456789abcdef", **{"usage-bootstrap-signing": "false"})
    )

    def signed() -> dict[str, str] | None:
        code, body = call(apiserver, pki, "/api/v1/namespaces/kube-public/configmaps/cluster-info")
        data: dict[str, str] = json.loads(body)["data"]
        return data if code == 200 and "jws-kubeconfig-abcdef" in data else None

    data = eventually(signed, "cluster-info signed")
    assert "jws-kubeconfig-nosign" not in data
    assert verify_detached_jws(
        data["jws-kubeconfig-abcdef"], data["kubeconfig"], "abcdef", "0123456789abcdef"
    )
    assert not verify_detached_jws(
        data["jws-kubeconfig-abcdef"], data["kubeconfig"], "abcdef", "ffffffffffffffff"
    )
    admin.run("delete", "secret", "-n", "kube-system", "bootstrap-token-abcdef")

    def unsigned() -> bool:
        cm = admin.json("get", "cm", "-n", "kube-public", "cluster-info")
        return "jws-kubeconfig-abcdef" not in cm["data"]

    eventually(unsigned, "signature removed with its token")


def test_expired_token_secret_is_deleted(admin: Kubectl) -> None:
    admin.apply_json(token_secret("oldone", "0123456789abcdef", expiration=stamp(5)))

    def gone() -> bool:
        out = admin.run("get", "secret", "-n", "kube-system", "bootstrap-token-oldone", check=False)
        return out.returncode == 1 and "NotFound" in out.stderr

    eventually(gone, "expired token deleted")


def _csr_pem(node_name: str, tmp_path: Path) -> tuple[bytes, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    key_path = tmp_path / "kubelet.key"
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(
            x509.Name(
                [
                    x509.NameAttribute(NameOID.ORGANIZATION_NAME, "system:nodes"),
                    x509.NameAttribute(NameOID.COMMON_NAME, f"system:node:{node_name}"),
                ]
            )
        )
        .sign(key, hashes.SHA256())
    )
    return csr.public_bytes(serialization.Encoding.PEM), key_path


def test_kubelet_tls_bootstrap_csr_is_approved_and_signed(
    admin: Kubectl, apiserver: ApiServer, pki: Pki, tmp_path: Path
) -> None:
    admin.apply_json(token_secret("abcdef", "0123456789abcdef"))
    boot = Kubectl(
        write_kubeconfig(
            tmp_path / "boot.conf",
            apiserver.url,
            pki.ca.cert,
            {"token": "abcdef.0123456789abcdef"},
        ),
        tmp_path / "bcache",
    )
    request, key_path = _csr_pem("w1", tmp_path)
    boot.apply_json(
        {
            "apiVersion": "certificates.k8s.io/v1",
            "kind": "CertificateSigningRequest",
            "metadata": {"generateName": "node-csr-"},
            "spec": {
                "request": base64.b64encode(request).decode(),
                "signerName": "kubernetes.io/kube-apiserver-client-kubelet",
                "usages": ["digital signature", "client auth"],
            },
        }
    )

    def issued() -> dict[str, Any] | None:
        items = boot.json("get", "csr")["items"]
        return items[0] if items and items[0].get("status", {}).get("certificate") else None

    csr = eventually(issued, "CSR signed")
    assert csr["spec"]["username"] == "system:bootstrap:abcdef"
    assert "system:bootstrappers" in csr["spec"]["groups"]
    assert [c["type"] for c in csr["status"]["conditions"]] == ["Approved"]
    cert_pem = base64.b64decode(csr["status"]["certificate"])
    cert = x509.load_pem_x509_certificate(cert_pem)
    assert cert.subject.rfc4514_string() == "CN=system:node:w1,O=system:nodes"
    user = {
        "client-certificate-data": base64.b64encode(cert_pem).decode(),
        "client-key-data": base64.b64encode(key_path.read_bytes()).decode(),
    }
    kubelet = Kubectl(
        write_kubeconfig(tmp_path / "kubelet.conf", apiserver.url, pki.ca.cert, user),
        tmp_path / "kcache",
    )
    kubelet.apply_json(node("w1"))
    assert kubelet.json("get", "node", "w1")["metadata"]["name"] == "w1"
    rows = boot.run("get", "csr").stdout.splitlines()
    assert rows[0].split() == [
        "NAME",
        "AGE",
        "SIGNERNAME",
        "REQUESTOR",
        "REQUESTEDDURATION",
        "CONDITION",
    ]
    assert rows[1].split()[-1] == "Approved,Issued"


def test_client_csr_signed_only_after_kubectl_certificate_approve(
    admin: Kubectl, apiserver: ApiServer, pki: Pki, tmp_path: Path
) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    request = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(
            x509.Name(
                [
                    x509.NameAttribute(NameOID.ORGANIZATION_NAME, "devs"),
                    x509.NameAttribute(NameOID.COMMON_NAME, "jane"),
                ]
            )
        )
        .sign(key, hashes.SHA256())
    )
    admin.apply_json(
        {
            "apiVersion": "certificates.k8s.io/v1",
            "kind": "CertificateSigningRequest",
            "metadata": {"name": "jane"},
            "spec": {
                "request": base64.b64encode(
                    request.public_bytes(serialization.Encoding.PEM)
                ).decode(),
                "signerName": "kubernetes.io/kube-apiserver-client",
                "usages": ["client auth"],
            },
        }
    )
    # the auto-approver leaves other signers alone: still pending after a full controller
    # round (the signer loop runs before the CSR loop; two signatures mean a round completed)
    admin.apply_json(cluster_info(apiserver, pki))
    for token_id in ("round1", "round2"):
        admin.apply_json(token_secret(token_id, "0123456789abcdef"))
        eventually(
            lambda t=token_id: (
                f"jws-kubeconfig-{t}"
                in admin.json("get", "cm", "-n", "kube-public", "cluster-info")["data"]
            ),
            "controller round",
        )
    assert admin.run("get", "csr", "jane").stdout.split()[-1] == "Pending"
    admin.run("certificate", "approve", "jane")

    def issued() -> str:
        cert: str = admin.json("get", "csr", "jane").get("status", {}).get("certificate", "")
        return cert

    cert_pem = base64.b64decode(eventually(issued, "approved CSR signed"))
    user = {
        "client-certificate-data": base64.b64encode(cert_pem).decode(),
        "client-key-data": base64.b64encode(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        ).decode(),
    }
    jane = Kubectl(
        write_kubeconfig(tmp_path / "jane.conf", apiserver.url, pki.ca.cert, user),
        tmp_path / "jcache",
    )
    denied = jane.run("get", "nodes", check=False)
    assert denied.returncode == 1
    assert 'User "jane" cannot list resource "nodes"' in denied.stderr
