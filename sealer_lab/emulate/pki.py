"""Certificates as kubeadm makes them: RSA 2048, CAs for 10 years, leaves for 1 year.

Works with the host's ``cryptography`` (Debian 12 ships 38.x; the development environment 4x),
so only APIs present in both are used.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import os
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = [
    "CA_DAYS",
    "LEAF_DAYS",
    "CertSpec",
    "ca_cert_hash",
    "key_pem",
    "key_usage",
    "load_cert",
    "load_key",
    "new_ca",
    "new_key",
    "not_after",
    "not_before",
    "sign_leaf",
    "write_pair",
]

CA_DAYS = 3650
LEAF_DAYS = 365


@dataclass(frozen=True)
class CertSpec:
    """What a leaf certificate says: names, organisations, usages and SANs."""

    cn: str
    orgs: tuple[str, ...] = ()
    server: bool = False
    client: bool = False
    dns: tuple[str, ...] = ()
    ips: tuple[str, ...] = field(default=())


def key_usage(*, ca: bool) -> x509.KeyUsage:
    """kubeadm's key usage: digital signature and key encipherment, plus cert signing for CAs."""
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=True,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def not_after(cert: x509.Certificate) -> dt.datetime:
    value = getattr(cert, "not_valid_after_utc", None)
    if isinstance(value, dt.datetime):
        return value
    return cert.not_valid_after.replace(tzinfo=dt.UTC)


def not_before(cert: x509.Certificate) -> dt.datetime:
    value = getattr(cert, "not_valid_before_utc", None)
    if isinstance(value, dt.datetime):
        return value
    return cert.not_valid_before.replace(tzinfo=dt.UTC)


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _name(cn: str, orgs: tuple[str, ...] = ()) -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, o) for o in orgs]
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, cn))
    return x509.Name(attrs)


def new_ca(cn: str, days: int = CA_DAYS) -> tuple[x509.Certificate, rsa.RSAPrivateKey]:
    key = new_key()
    start = now()
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(cn))
        .issuer_name(_name(cn))
        .public_key(key.public_key())
        .serial_number(int.from_bytes(os.urandom(8), "big") >> 1 or 1)
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=days))
        .add_extension(
            key_usage(ca=True),
            critical=True,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(ski, critical=False)
        .sign(key, hashes.SHA256())
    )
    return cert, key


def sign_leaf(
    ca_cert: x509.Certificate,
    ca_key: rsa.RSAPrivateKey,
    spec: CertSpec,
    *,
    days: int = LEAF_DAYS,
    key: rsa.RSAPrivateKey | None = None,
) -> tuple[x509.Certificate, rsa.RSAPrivateKey]:
    """Sign a leaf like kubeadm: NotBefore is the CA's NotBefore, NotAfter now + ``days``."""
    key = key or new_key()
    usages = []
    if spec.server:
        usages.append(ExtendedKeyUsageOID.SERVER_AUTH)
    if spec.client:
        usages.append(ExtendedKeyUsageOID.CLIENT_AUTH)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(spec.cn, spec.orgs))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(int.from_bytes(os.urandom(8), "big") >> 1)
        .not_valid_before(not_before(ca_cert))
        .not_valid_after(now() + dt.timedelta(days=days))
        .add_extension(
            key_usage(ca=False),
            critical=True,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
    )
    if usages:
        builder = builder.add_extension(x509.ExtendedKeyUsage(usages), critical=False)
    sans: list[x509.GeneralName] = [x509.DNSName(d) for d in spec.dns]
    sans += [x509.IPAddress(ipaddress.ip_address(i)) for i in spec.ips]
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    return builder.sign(ca_key, hashes.SHA256()), key


def cert_pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def key_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )


def public_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def write_file(path: Path, data: bytes, mode: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def write_pair(directory: Path, base: str, cert: x509.Certificate, key: rsa.RSAPrivateKey) -> None:
    write_file(directory / f"{base}.key", key_pem(key), 0o600)
    write_file(directory / f"{base}.crt", cert_pem(cert), 0o644)


def load_cert(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def load_key(path: Path) -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError(f"{path}: not an RSA private key")
    return key


def signed_by(cert: x509.Certificate, ca: x509.Certificate) -> bool:
    """Whether ``ca``'s key made ``cert``'s signature (RSA PKCS#1 v1.5)."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric import padding

    key = ca.public_key()
    algorithm = cert.signature_hash_algorithm
    if not isinstance(key, rsa.RSAPublicKey) or algorithm is None:
        return False
    try:
        key.verify(cert.signature, cert.tbs_certificate_bytes, padding.PKCS1v15(), algorithm)
    except InvalidSignature:
        return False
    return cert.issuer == ca.subject


def ca_cert_hash(cert: x509.Certificate) -> str:
    """kubeadm's --discovery-token-ca-cert-hash: sha256 of the CA's SubjectPublicKeyInfo."""
    spki = cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return "sha256:" + hashlib.sha256(spki).hexdigest()


def sans_of(cert: x509.Certificate) -> tuple[tuple[str, ...], tuple[str, ...]]:
    try:
        ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return (), ()
    dns = tuple(ext.get_values_for_type(x509.DNSName))
    ips = tuple(str(i) for i in ext.get_values_for_type(x509.IPAddress))
    return dns, ips


def spec_of(cert: x509.Certificate) -> CertSpec:
    """The spec a certificate was made from (for renewal with the same identity)."""
    cn_attrs = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    orgs = tuple(
        str(a.value) for a in cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    )
    try:
        eku = list(cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value)
    except x509.ExtensionNotFound:
        eku = []
    dns, ips = sans_of(cert)
    return CertSpec(
        cn=str(cn_attrs[0].value) if cn_attrs else "",
        orgs=orgs,
        server=ExtendedKeyUsageOID.SERVER_AUTH in eku,
        client=ExtendedKeyUsageOID.CLIENT_AUTH in eku,
        dns=dns,
        ips=ips,
    )
