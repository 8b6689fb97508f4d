"""kubeadm's certs phase on a directory: keep what exists, make what is missing, refuse bad."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from sealer_lab.emulate import pki
from sealer_lab.emulate.kubeadm import certs
from sealer_lab.emulate.kubeadm.errors import PhaseError
from sealer_lab.emulate.kubeadm.settings import Settings
from sealer_lab.emulate.versions import Version


def _settings(d: Path, sans: list[str] | None = None) -> Settings:
    v = Version(1, 29, 3)
    return Settings(
        version=v,
        kubeadm=v,
        node_name="m0",
        advertise_address="10.0.0.5",
        control_plane_endpoint="apiserver.cluster.local:6443",
        cert_dir=d,
        cert_sans=sans or [],
    )


def test_generates_kubeadm_defaults_and_keeps_existing_files(tmp_path: Path) -> None:
    s = _settings(tmp_path)
    ca, key = pki.new_ca("kubernetes", days=36500)
    pki.write_pair(tmp_path, "ca", ca, key)
    out = certs.ensure_certs(s)
    assert "[certs] Using existing ca certificate authority" in out
    assert pki.load_cert(tmp_path / "ca.crt") == ca
    api = pki.load_cert(tmp_path / "apiserver.crt")
    assert pki.signed_by(api, ca)
    left = pki.not_after(api) - dt.datetime.now(dt.UTC)
    assert 364 <= left.days <= 365
    assert pki.not_before(api) == pki.not_before(ca)
    dns, ips = pki.sans_of(api)
    assert "apiserver.cluster.local" in dns and "kubernetes.default.svc.cluster.local" in dns
    assert {"10.96.0.1", "10.0.0.5"} <= set(ips)
    etcd_ca = pki.load_cert(tmp_path / "etcd/ca.crt")
    assert (pki.not_after(etcd_ca) - dt.datetime.now(dt.UTC)).days >= 3649
    assert pki.load_key(tmp_path / "sa.key").key_size == 2048
    before = (tmp_path / "apiserver.crt").read_bytes()
    again = certs.ensure_certs(s)
    assert "[certs] Using existing apiserver certificate and key on disk" in again
    assert (tmp_path / "apiserver.crt").read_bytes() == before


def test_refuses_a_leaf_of_another_ca_or_missing_a_name(tmp_path: Path) -> None:
    s = _settings(tmp_path)
    certs.ensure_certs(s)
    other, other_key = pki.new_ca("kubernetes")
    leaf, leaf_key = pki.sign_leaf(other, other_key, certs.leaf_specs(s)["apiserver"])
    pki.write_pair(tmp_path, "apiserver", leaf, leaf_key)
    with pytest.raises(PhaseError, match="certificate apiserver is not signed by corresponding CA"):
        certs.ensure_certs(s)
    (tmp_path / "apiserver.crt").unlink()
    certs.ensure_certs(s)
    with pytest.raises(
        PhaseError,
        match=r"certificate apiserver is invalid: x509: certificate is "
        r"valid for .*, not 10\.9\.9\.9",
    ):
        certs.ensure_certs(_settings(tmp_path, ["10.9.9.9"]))
