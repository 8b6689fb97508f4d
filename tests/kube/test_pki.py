"""The generated PKI: subjects, SANs, usages, validity, files, CA reuse, checked with openssl."""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import os
import re
import stat
import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from sealer.errors import KubeError
from sealer.kube.kubeconfig import parse_kubeconfig
from sealer.kube.pki import (
    ClusterCA,
    PkiFile,
    ca_cert_hash,
    issue_master_pki,
    renew_master_leaves,
    write_files,
)
from tests.kube.conftest import MASTERS, Issued, MakeCluster

SERVER = ExtendedKeyUsageOID.SERVER_AUTH
CLIENT = ExtendedKeyUsageOID.CLIENT_AUTH

# leaf base -> (CA file, CN, O, extended key usages, openssl purposes)
LEAVES = {
    "pki/apiserver": ("pki/ca.crt", "kube-apiserver", [], {SERVER}, ["sslserver"]),
    "pki/apiserver-kubelet-client": (
        "pki/ca.crt",
        "kube-apiserver-kubelet-client",
        ["kubeadm:cluster-admins"],
        {CLIENT},
        ["sslclient"],
    ),
    "pki/front-proxy-client": (
        "pki/front-proxy-ca.crt",
        "front-proxy-client",
        [],
        {CLIENT},
        ["sslclient"],
    ),
    "pki/etcd/server": (
        "pki/etcd/ca.crt",
        "master-1",
        [],
        {SERVER, CLIENT},
        ["sslserver", "sslclient"],
    ),
    "pki/etcd/peer": (
        "pki/etcd/ca.crt",
        "master-1",
        [],
        {SERVER, CLIENT},
        ["sslserver", "sslclient"],
    ),
    "pki/etcd/healthcheck-client": (
        "pki/etcd/ca.crt",
        "kube-etcd-healthcheck-client",
        [],
        {CLIENT},
        ["sslclient"],
    ),
    "pki/apiserver-etcd-client": (
        "pki/etcd/ca.crt",
        "kube-apiserver-etcd-client",
        [],
        {CLIENT},
        ["sslclient"],
    ),
}
CAS = {"pki/ca.crt": "kubernetes", "pki/front-proxy-ca.crt": "front-proxy-ca"}
CAS["pki/etcd/ca.crt"] = "etcd-ca"


def cert(files: dict[str, PkiFile], path: str) -> x509.Certificate:
    return x509.load_pem_x509_certificate(files[path].content)


def names(c: x509.Certificate, oid: x509.ObjectIdentifier) -> list[str]:
    return [str(a.value) for a in c.subject.get_attributes_for_oid(oid)]


def sans(c: x509.Certificate) -> tuple[set[str], set[str]]:
    ext = c.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    dns = set(ext.get_values_for_type(x509.DNSName))
    ips = {str(ip) for ip in ext.get_values_for_type(x509.IPAddress)}
    return dns, ips


def openssl(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["openssl", *args], capture_output=True, text=True, check=False)


def test_every_file_kubeadm_expects_is_there(issued: Issued) -> None:
    _, _, files, _ = issued
    expected = {"pki/sa.key", "pki/sa.pub"}
    for base in [*LEAVES, "pki/ca", "pki/front-proxy-ca", "pki/etcd/ca"]:
        expected |= {f"{base}.crt", f"{base}.key"}
    expected |= {"admin.conf", "super-admin.conf", "controller-manager.conf", "scheduler.conf"}
    assert set(files) == expected


def test_cas_are_self_signed_cas_with_cert_sign(issued: Issued) -> None:
    _, _, files, _ = issued
    for path, common_name in CAS.items():
        c = cert(files, path)
        assert names(c, NameOID.COMMON_NAME) == [common_name]
        assert c.issuer == c.subject
        constraints = c.extensions.get_extension_for_class(x509.BasicConstraints)
        assert constraints.critical and constraints.value.ca
        usage = c.extensions.get_extension_for_class(x509.KeyUsage).value
        assert usage.key_cert_sign and usage.digital_signature
        c.verify_directly_issued_by(c)


@pytest.mark.parametrize("base", sorted(LEAVES))
def test_leaf_subject_usages_and_issuer(issued: Issued, base: str) -> None:
    _, _, files, _ = issued
    ca_path, common_name, orgs, ekus, _ = LEAVES[base]
    c = cert(files, f"{base}.crt")
    assert names(c, NameOID.COMMON_NAME) == [common_name]
    assert names(c, NameOID.ORGANIZATION_NAME) == orgs
    assert set(c.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value) == ekus
    constraints = c.extensions.get_extension_for_class(x509.BasicConstraints)
    assert constraints.critical and not constraints.value.ca
    usage = c.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and not usage.key_cert_sign
    issuer = cert(files, ca_path)
    assert c.issuer == issuer.subject
    c.verify_directly_issued_by(issuer)


def test_before_1_29_the_client_certificates_are_system_masters(
    make_cluster: MakeCluster,
) -> None:
    cluster = make_cluster("v1.28.9", certificates={"keyAlgorithm": "ecdsa-p256"})
    files = renew_master_leaves(ClusterCA.generate(cluster.spec), cluster, MASTERS[0], "m1")
    for base in ("apiserver-kubelet-client", "etcd/healthcheck-client", "apiserver-etcd-client"):
        c = cert(files, f"pki/{base}.crt")
        assert names(c, NameOID.ORGANIZATION_NAME) == ["system:masters"], base


def test_apiserver_sans(issued: Issued) -> None:
    _, _, files, _ = issued
    dns, ips = sans(cert(files, "pki/apiserver.crt"))
    assert dns == {
        "localhost",
        "kubernetes",
        "kubernetes.default",
        "kubernetes.default.svc",
        "kubernetes.default.svc.cluster.local",
        "master-1",
        "apiserver.cluster.local",
        "k8s.example.com",
    }
    assert ips == {"127.0.0.1", "10.96.0.1", *MASTERS, "10.103.97.2", "203.0.113.7"}


def test_a_master_named_by_dns_name_has_its_address_in_serving_certificates(
    make_cluster: MakeCluster,
) -> None:
    cluster = make_cluster("v1.29.3")
    files = renew_master_leaves(
        ClusterCA.generate(cluster.spec),
        cluster,
        "m1.lab.example",
        "m1",
        extra_sans=["192.0.2.12"],  # another master's address
        resolved={"m1.lab.example": "192.0.2.11"},
    )
    dns, ips = sans(cert(files, "pki/apiserver.crt"))
    assert "m1.lab.example" in dns
    assert {"192.0.2.11", "192.0.2.12"} <= ips
    for base in ("pki/etcd/server", "pki/etcd/peer"):
        dns, ips = sans(cert(files, f"{base}.crt"))
        assert {"m1", "m1.lab.example"} <= dns
        assert "192.0.2.11" in ips, base


@pytest.mark.parametrize("base", ["pki/etcd/server", "pki/etcd/peer"])
def test_etcd_sans(issued: Issued, base: str) -> None:
    _, _, files, _ = issued
    assert sans(cert(files, f"{base}.crt")) == (
        {"master-1", "localhost"},
        {"127.0.0.1", "::1", MASTERS[0]},
    )


def test_client_certificates_have_no_sans(issued: Issued) -> None:
    _, _, files, _ = issued
    c = cert(files, "pki/apiserver-kubelet-client.crt")
    with pytest.raises(x509.ExtensionNotFound):
        c.extensions.get_extension_for_class(x509.SubjectAlternativeName)


def test_validity_is_at_least_98_years(issued: Issued, now: dt.datetime) -> None:
    _, _, files, _ = issued
    floor = now + dt.timedelta(days=98 * 365)
    for path, item in files.items():
        if path.endswith(".crt"):
            c = x509.load_pem_x509_certificate(item.content)
        elif path.endswith(".conf"):
            pem = parse_kubeconfig(item.content).client_cert_pem
            assert pem is not None
            c = x509.load_pem_x509_certificate(pem)
        else:
            continue
        assert c.not_valid_after_utc >= floor, path
        assert c.not_valid_before_utc <= now, path


@pytest.mark.parametrize("base", sorted(LEAVES))
def test_openssl_verifies_every_leaf_for_its_purpose(issued: Issued, base: str) -> None:
    _, _, _, root = issued
    ca_path, _, _, _, purposes = LEAVES[base]
    for purpose in purposes:
        result = openssl(
            "verify", "-purpose", purpose, "-CAfile", str(root / ca_path), str(root / f"{base}.crt")
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip().endswith(": OK")


def test_openssl_rejects_a_leaf_against_the_wrong_ca(issued: Issued) -> None:
    _, _, _, root = issued
    result = openssl(
        "verify", "-CAfile", str(root / "pki/etcd/ca.crt"), str(root / "pki/apiserver.crt")
    )
    assert result.returncode != 0


def test_openssl_verifies_kubeconfig_client_certificates(issued: Issued, workdir: Path) -> None:
    _, _, files, root = issued
    for name in ("admin.conf", "super-admin.conf", "controller-manager.conf", "scheduler.conf"):
        info = parse_kubeconfig(files[name].content)
        assert info.client_cert_pem is not None
        pem = workdir / f"{name}.crt"
        pem.write_bytes(info.client_cert_pem)
        result = openssl(
            "verify", "-purpose", "sslclient", "-CAfile", str(root / "pki/ca.crt"), str(pem)
        )
        assert result.returncode == 0, (name, result.stderr)


def test_key_files_match_their_certificates(issued: Issued) -> None:
    _, ca, files, _ = issued
    for path in files:
        if not path.endswith(".crt"):
            continue
        key = serialization.load_pem_private_key(files[path[:-4] + ".key"].content, None)
        public = cert(files, path).public_key()
        assert key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        ) == public.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    header = b"EC PRIVATE KEY" if ca.key_algorithm == "ecdsa-p256" else b"RSA PRIVATE KEY"
    assert header in files["pki/ca.key"].content


def test_service_account_key_pair(issued: Issued, workdir: Path) -> None:
    _, _, files, root = issued
    derived = openssl("pkey", "-in", str(root / "pki/sa.key"), "-pubout")
    assert derived.returncode == 0, derived.stderr
    assert derived.stdout.encode() == files["pki/sa.pub"].content
    assert b"BEGIN PUBLIC KEY" in files["pki/sa.pub"].content


def test_key_algorithm_is_used_everywhere(issued: Issued) -> None:
    _, ca, files, _ = issued
    expected = "id-ecPublicKey" if ca.key_algorithm == "ecdsa-p256" else "rsaEncryption"
    for path in ("pki/ca.crt", "pki/apiserver.crt", "pki/etcd/peer.crt"):
        text = subprocess.run(
            ["openssl", "x509", "-noout", "-text"],
            input=files[path].content.decode(),
            capture_output=True,
            text=True,
            check=True,
        )
        assert f"Public Key Algorithm: {expected}" in text.stdout


def test_written_modes_keys_0600_certs_0644(issued: Issued) -> None:
    _, _, files, root = issued
    for path, item in files.items():
        mode = stat.S_IMODE((root / path).stat().st_mode)
        assert mode == item.mode, path
        if path.endswith((".key", ".conf")):
            assert mode == 0o600, path
        else:
            assert mode == 0o644, path


def test_write_files_ignores_a_permissive_umask(issued: Issued, workdir: Path) -> None:
    _, _, files, _ = issued
    old = os.umask(0)
    try:
        write_files(workdir, {"pki/ca.key": files["pki/ca.key"]})
    finally:
        os.umask(old)
    assert stat.S_IMODE((workdir / "pki/ca.key").stat().st_mode) == 0o600
    assert [p.name for p in (workdir / "pki").iterdir()] == ["ca.key"]  # no temp file left


def test_write_files_refuses_paths_outside_the_root(workdir: Path) -> None:
    with pytest.raises(KubeError, match="outside"):
        write_files(workdir, {"../escape": PkiFile(b"x", 0o600)})
    assert not (workdir.parent / "escape").exists()


def test_repr_never_shows_private_keys(issued: Issued) -> None:
    _, ca, files, _ = issued
    text = repr(ca) + repr(ca.ca)
    assert "PRIVATE" not in text and "key=" not in text
    assert files["pki/ca.key"].content.decode().split("\n")[1] not in text


def test_ca_cert_hash_matches_the_openssl_recipe(issued: Issued) -> None:
    """kubeadm documents the pin as: openssl x509 -pubkey | openssl pkey -pubin -outform der
    | sha256sum."""
    _, ca, _, root = issued
    pub = subprocess.run(
        ["openssl", "x509", "-pubkey", "-noout", "-in", str(root / "pki/ca.crt")],
        capture_output=True,
        check=True,
    ).stdout
    der = subprocess.run(
        ["openssl", "pkey", "-pubin", "-outform", "der"], input=pub, capture_output=True, check=True
    ).stdout
    assert ca.ca_cert_hash() == "sha256:" + hashlib.sha256(der).hexdigest()
    assert ca_cert_hash((root / "pki/ca.crt").read_bytes()) == ca.ca_cert_hash()


def test_ca_reuse_a_second_master_from_loaded_ca(issued: Issued, workdir: Path) -> None:
    cluster, _, files, root = issued
    shared = {path: (root / path).read_bytes() for path in files if path.startswith("pki/")}
    loaded = ClusterCA.load(shared, where=MASTERS[0])
    second = issue_master_pki(loaded, cluster, MASTERS[1], "master-2")
    write_files(workdir, second)
    for path in ("pki/ca.crt", "pki/ca.key", "pki/etcd/ca.crt", "pki/sa.key", "pki/sa.pub"):
        assert (workdir / path).read_bytes() == files[path].content, path
    assert "super-admin.conf" not in second  # only `kubeadm init` writes one
    for base, (ca_path, *_rest) in LEAVES.items():
        fresh = cert(second, f"{base}.crt")
        assert fresh.issuer == cert(files, ca_path).subject
        result = openssl("verify", "-CAfile", str(root / ca_path), str(workdir / f"{base}.crt"))
        assert result.returncode == 0, (base, result.stderr)
        assert fresh.serial_number != cert(files, f"{base}.crt").serial_number
    assert sans(cert(second, "pki/etcd/server.crt")) == (
        {"master-2", "localhost"},
        {"127.0.0.1", "::1", MASTERS[1]},
    )


def test_load_accepts_paths_relative_to_pki(issued: Issued) -> None:
    _, ca, files, _ = issued
    relative = {p.removeprefix("pki/"): files[p].content for p in files if p.startswith("pki/")}
    assert ClusterCA.load(relative).ca_cert_hash() == ca.ca_cert_hash()


def test_load_reports_missing_mismatched_and_non_ca_files(issued: Issued) -> None:
    _, _, files, _ = issued
    shared = {p: f.content for p, f in files.items() if p.startswith("pki/")}
    missing = {p: c for p, c in shared.items() if p != "pki/front-proxy-ca.key"}
    with pytest.raises(KubeError, match=re.escape("front-proxy-ca.key is missing")):
        ClusterCA.load(missing, where="10.0.0.1")
    swapped = dict(shared)
    swapped["pki/ca.key"] = shared["pki/etcd/ca.key"]
    with pytest.raises(KubeError, match="does not belong") as caught:
        ClusterCA.load(swapped)
    assert "PRIVATE" not in str(caught.value)
    not_ca = dict(shared)
    not_ca["pki/ca.crt"] = shared["pki/apiserver.crt"]
    not_ca["pki/ca.key"] = shared["pki/apiserver.key"]
    with pytest.raises(KubeError, match="not a CA"):
        ClusterCA.load(not_ca)
    garbage = dict(shared)
    garbage["pki/sa.key"] = b"-----BEGIN RSA PRIVATE KEY-----\nnot a key\n"
    with pytest.raises(
        KubeError, match=re.escape("sa.key: not an unencrypted PEM private key")
    ) as caught:
        ClusterCA.load(garbage)
    assert "not a key" not in str(caught.value)


def test_leaves_never_outlive_their_ca(make_cluster: MakeCluster, now: dt.datetime) -> None:
    cluster = make_cluster(certificates={"validityYears": 10, "keyAlgorithm": "ecdsa-p256"})
    ca = ClusterCA.generate(cluster.spec, now=now - dt.timedelta(days=365 * 3))
    files = renew_master_leaves(ca, cluster, MASTERS[1], "master-2", now=now)
    ca_end = ca.ca.cert.not_valid_after_utc
    assert cert(files, "pki/apiserver.crt").not_valid_after_utc == ca_end
    etcd_end = ca.etcd_ca.cert.not_valid_after_utc
    assert cert(files, "pki/etcd/peer.crt").not_valid_after_utc == etcd_end


def test_renew_issues_leaves_only_and_adds_sans(issued: Issued) -> None:
    cluster, ca, files, _ = issued
    renewed = renew_master_leaves(
        ca, cluster, MASTERS[0], "master-1", extra_sans=["api.example.org", "198.51.100.9"]
    )
    assert not any(p.endswith(("ca.crt", "ca.key", "sa.key", "sa.pub")) for p in renewed)
    dns, ips = sans(cert(renewed, "pki/apiserver.crt"))
    assert "api.example.org" in dns and "198.51.100.9" in ips
    old_dns, old_ips = sans(cert(files, "pki/apiserver.crt"))
    assert old_dns <= dns and old_ips <= ips


def test_ipv6_addresses_in_sans_and_urls(make_cluster: MakeCluster) -> None:
    cluster = make_cluster(
        masters=["fd00::11"],
        nodes=[],
        vip="fd00::100",
        network={"serviceCIDR": "fd00:96::/108", "podCIDR": "fd00:64::/56"},
        certificates={"keyAlgorithm": "ecdsa-p256"},
    )
    ca = ClusterCA.generate(cluster.spec)
    files = issue_master_pki(ca, cluster, "fd00::11", "m6")
    _, ips = sans(cert(files, "pki/apiserver.crt"))
    assert {"fd00::11", "fd00::100", "fd00:96::1"} <= ips
    assert parse_kubeconfig(files["scheduler.conf"].content).server == "https://[fd00::11]:6443"


def test_dns_named_hosts_become_dns_sans(make_cluster: MakeCluster) -> None:
    cluster = make_cluster(masters=["m1.example.com"], nodes=[])
    ca = ClusterCA.generate(cluster.spec)
    leaves = renew_master_leaves(ca, cluster, "m1.example.com", "m1")
    dns, ips = sans(cert(leaves, "pki/apiserver.crt"))
    assert "m1.example.com" in dns
    assert all(ipaddress.ip_address(ip) for ip in ips)


def test_hostname_is_required(issued: Issued) -> None:
    cluster, ca, _, _ = issued
    with pytest.raises(KubeError, match="hostname"):
        renew_master_leaves(ca, cluster, MASTERS[0], "  ")
