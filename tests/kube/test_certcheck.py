"""Rows for `sealer certs check`, from the bytes of files as read from a master."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest

from sealer.errors import KubeError
from sealer.kube.certcheck import FILES_TO_READ, check_certificates
from sealer.kube.kubeconfig import build_kubeconfig
from sealer.kube.pki import ClusterCA
from sealer.layout import KUBELET_CLIENT_CERT_PATH
from tests.kube.conftest import Issued, MakeCluster


def test_every_certificate_is_a_row(issued: Issued, now: dt.datetime) -> None:
    _, _, files, _ = issued
    read = {f"/etc/kubernetes/{p}": f.content for p, f in files.items()}
    rows = {r.name: r for r in check_certificates("10.0.0.1", read, now=now)}
    certs = {p for p in files if p.endswith(".crt")}
    confs = {p for p in files if p.endswith(".conf")}
    assert set(rows) == certs | confs  # keys and sa.pub are not certificates
    assert all(r.host == "10.0.0.1" for r in rows.values())
    assert rows["pki/ca.crt"].issuer == "self-signed" and rows["pki/ca.crt"].is_ca
    assert rows["pki/apiserver.crt"].issuer == "ca"
    assert rows["pki/front-proxy-client.crt"].issuer == "front-proxy-ca"
    assert rows["pki/etcd/peer.crt"].issuer == "etcd-ca"
    assert rows["admin.conf"].issuer == "ca"
    assert rows["admin.conf"].subject == "CN=kubernetes-admin,O=kubeadm:cluster-admins"
    assert all(r.signed_by_ca_ok for r in rows.values())
    assert all(r.days_left >= 98 * 365 for r in rows.values())
    assert "kubernetes.default.svc" in rows["pki/apiserver.crt"].sans
    assert "::1" in rows["pki/etcd/server.crt"].sans
    assert rows["pki/apiserver.crt"].not_after > now + dt.timedelta(days=98 * 365)


def test_days_left_counts_from_now(issued: Issued) -> None:
    _, _, files, _ = issued
    row = check_certificates("h", {"pki/ca.crt": files["pki/ca.crt"].content})[0]
    later = row.not_after - dt.timedelta(days=10, hours=1)
    assert (
        check_certificates("h", {"pki/ca.crt": files["pki/ca.crt"].content}, now=later)[0].days_left
        == 10
    )


def test_forged_and_orphan_certificates(issued: Issued, make_cluster: MakeCluster) -> None:
    cluster, ca, files, _ = issued
    impostor = ClusterCA.generate(cluster.spec)  # same CA names, different keys
    forged = impostor.issue("ca", "kube-apiserver", server_auth=True, years=1)
    orphan = impostor.issue("etcd-ca", "someone", client_auth=True, years=1)
    read = {
        "pki/ca.crt": files["pki/ca.crt"].content,
        "pki/apiserver.crt": forged.cert_pem(),
        "pki/etcd/server.crt": orphan.cert_pem(),
    }
    rows = {r.name: r for r in check_certificates("h", read)}
    assert rows["pki/apiserver.crt"].issuer == "ca"
    assert rows["pki/apiserver.crt"].signed_by_ca_ok is False
    assert rows["pki/etcd/server.crt"].signed_by_ca_ok is None
    assert rows["pki/etcd/server.crt"].issuer == "CN=etcd-ca"
    assert ca.ca.cert.subject == impostor.ca.cert.subject


def test_kubelet_conf_pointing_at_a_file_and_the_rotated_client_cert(issued: Issued) -> None:
    _, ca, files, _ = issued
    kubelet = ca.issue(
        "ca", "system:node:master-1", organizations=["system:nodes"], client_auth=True, years=1
    )
    pointing = (
        b"apiVersion: v1\nkind: Config\ncurrent-context: c\n"
        b"contexts: [{name: c, context: {cluster: k, user: u}}]\n"
        b"clusters: [{name: k, cluster: {server: 'https://apiserver.cluster.local:6443'}}]\n"
        b"users: [{name: u, user: {client-certificate: "
        + KUBELET_CLIENT_CERT_PATH.encode()
        + b"}}]\n"
    )
    read = {
        "/etc/kubernetes/pki/ca.crt": files["pki/ca.crt"].content,
        "/etc/kubernetes/kubelet.conf": pointing,
        KUBELET_CLIENT_CERT_PATH: kubelet.cert_pem() + kubelet.key_pem(),
    }
    rows = {r.name: r for r in check_certificates("h", read)}
    assert set(rows) == {"pki/ca.crt", KUBELET_CLIENT_CERT_PATH}
    row = rows[KUBELET_CLIENT_CERT_PATH]
    assert row.subject == "CN=system:node:master-1,O=system:nodes"
    assert row.signed_by_ca_ok and row.days_left in (364, 365)
    assert "PRIVATE" not in json.dumps([r.to_json() for r in rows.values()])


def test_json_rows(issued: Issued) -> None:
    _, _, files, _ = issued
    rows = check_certificates("h", {"admin.conf": files["admin.conf"].content})
    data = json.loads(json.dumps([r.to_json() for r in rows]))
    assert data[0]["name"] == "admin.conf"
    assert data[0]["signed_by_ca_ok"] is None  # ca.crt was not among the files
    assert data[0]["not_after"].startswith(str(rows[0].not_after.year))


def test_unparseable_files_name_the_host_and_path(issued: Issued) -> None:
    _, ca, _, _ = issued
    bad_cert = b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"
    with pytest.raises(KubeError, match=re.escape("10.0.0.9: /etc/kubernetes/pki/ca.crt")):
        check_certificates("10.0.0.9", {"/etc/kubernetes/pki/ca.crt": bad_cert})
    with pytest.raises(KubeError, match=re.escape("10.0.0.9: admin.conf: not a kubeconfig")):
        check_certificates("10.0.0.9", {"admin.conf": b"kind: Pod\n"})
    good = build_kubeconfig(
        cluster_name="c",
        server="https://x:6443",
        ca_cert_pem=ca.ca.cert_pem(),
        user="u",
        client_cert_pem=ca.ca.cert_pem(),
        client_key_pem=b"k",
    )
    assert check_certificates("h", {"x.conf": good})[0].is_ca


def test_files_to_read_covers_what_kubeadm_writes() -> None:
    assert "/etc/kubernetes/pki/apiserver.crt" in FILES_TO_READ
    assert "/etc/kubernetes/super-admin.conf" in FILES_TO_READ
    assert KUBELET_CLIENT_CERT_PATH in FILES_TO_READ
    assert not any(p.endswith(".key") for p in FILES_TO_READ)
