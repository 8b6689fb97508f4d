from __future__ import annotations

import datetime as dt
import ipaddress
import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from sealer.connect import Connections, HostAccess, PoolOptions
from sealer.facts import certificate, collect, parse_certificate


def _make_cert(path: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kube-apiserver")])
    start = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kubernetes")]))
        .public_key(key.public_key())
        .serial_number(4242)
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=36500))
        .add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.DNSName("apiserver.cluster.local"),
                    x509.IPAddress(ipaddress.ip_address("10.96.0.1")),
                ]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def test_parse_certificate_agrees_with_openssl(tmp_path: Path) -> None:
    pem = tmp_path / "apiserver.crt"
    _make_cert(pem)
    info = parse_certificate(pem.read_bytes())
    out = subprocess.run(
        ["openssl", "x509", "-noout", "-enddate", "-subject", "-in", str(pem)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    # notAfter=Dec  8 00:00:00 2123 GMT
    enddate = out.splitlines()[0].split("=", 1)[1]
    expected = dt.datetime.strptime(enddate, "%b %d %H:%M:%S %Y %Z").replace(tzinfo=dt.UTC)
    assert info.not_after == expected
    assert info.subject == "CN=kube-apiserver" and info.issuer == "CN=kubernetes"
    assert info.dns_names == ("apiserver.cluster.local",)
    assert info.ip_addresses == ("10.96.0.1",)
    assert (info.serial, info.is_ca) == (4242, False)
    assert info.days_left(dt.datetime(2024, 1, 1, tzinfo=dt.UTC)) == 36500


@pytest.mark.lab
async def test_certificate_fact_over_ssh(
    root: HostAccess, options: PoolOptions, tmp_path: Path
) -> None:
    pem = tmp_path / "apiserver.crt"
    _make_cert(pem)
    async with Connections(options) as conns:
        info = await collect(conns, root, certificate(str(pem)))
        missing = await collect(conns, root, certificate(str(tmp_path / "none.crt")))
    assert info is not None and info.subject == "CN=kube-apiserver"
    assert missing is None
