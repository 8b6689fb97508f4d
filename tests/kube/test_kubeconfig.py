"""Kubeconfig contents: server URL, embedded CA, client certificate CN/O, per version."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID

from sealer.errors import KubeError
from sealer.kube.kubeconfig import parse_kubeconfig
from sealer.kube.pki import ClusterCA, PkiFile, issue_master_pki
from tests.kube.conftest import MASTERS, Issued, MakeCluster


def subject(files: dict[str, PkiFile], name: str) -> tuple[list[str], list[str]]:
    pem = parse_kubeconfig(files[name].content).client_cert_pem
    assert pem is not None
    c = x509.load_pem_x509_certificate(pem)
    cn = [str(a.value) for a in c.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
    o = [str(a.value) for a in c.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)]
    return cn, o


def test_server_urls_and_embedded_ca(issued: Issued) -> None:
    _, _, files, _ = issued
    for name in ("admin.conf", "super-admin.conf"):
        info = parse_kubeconfig(files[name].content)
        assert info.server == "https://apiserver.cluster.local:6443"
        assert info.ca_cert_pem == files["pki/ca.crt"].content
        assert info.cluster_name == "demo"
    for name in ("controller-manager.conf", "scheduler.conf"):
        assert parse_kubeconfig(files[name].content).server == f"https://{MASTERS[0]}:6443"


def test_subjects_from_kubernetes_1_29(issued: Issued) -> None:
    _, _, files, _ = issued
    assert subject(files, "admin.conf") == (["kubernetes-admin"], ["kubeadm:cluster-admins"])
    assert subject(files, "super-admin.conf") == (["kubernetes-super-admin"], ["system:masters"])
    assert subject(files, "controller-manager.conf") == (["system:kube-controller-manager"], [])
    assert subject(files, "scheduler.conf") == (["system:kube-scheduler"], [])


def test_before_1_29_admin_is_system_masters_and_there_is_no_super_admin(
    make_cluster: MakeCluster,
) -> None:
    cluster = make_cluster("v1.28.9", certificates={"keyAlgorithm": "ecdsa-p256"})
    files = issue_master_pki(ClusterCA.generate(cluster.spec), cluster, MASTERS[0], "m1")
    assert subject(files, "admin.conf") == (["kubernetes-admin"], ["system:masters"])
    assert "super-admin.conf" not in files


def test_contexts_follow_client_go(issued: Issued) -> None:
    _, _, files, _ = issued
    info = parse_kubeconfig(files["admin.conf"].content)
    assert info.user == "kubernetes-admin"
    assert b"kubernetes-admin@demo" in files["admin.conf"].content
    assert info.client_key_pem is not None and b"PRIVATE KEY" in info.client_key_pem
    assert "PRIVATE" not in repr(info)


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
def test_kubectl_reads_it(issued: Issued, workdir: Path) -> None:
    _, _, files, _ = issued
    path = workdir / "admin.conf"
    path.write_bytes(files["admin.conf"].content)
    out = subprocess.run(
        ["kubectl", "config", "view", "--raw", "-o", "json", f"--kubeconfig={path}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    view = json.loads(out)
    assert view["current-context"] == "kubernetes-admin@demo"
    assert view["clusters"][0]["cluster"]["server"] == "https://apiserver.cluster.local:6443"


def test_parse_errors_name_the_file() -> None:
    with pytest.raises(KubeError, match=re.escape("admin.conf: not a kubeconfig")):
        parse_kubeconfig(b"[]", "admin.conf")
    with pytest.raises(KubeError, match=re.escape("x.conf: no context named 'nope'")):
        parse_kubeconfig(b"kind: Config\ncurrent-context: nope\ncontexts: []\n", "x.conf")
