"""Certificate facts: the PEM is read from the host and parsed locally with ``cryptography``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from cryptography import x509
from cryptography.x509.oid import ExtensionOID

from sealer.connect import Result
from sealer.facts.base import Fact, UnexpectedExit

__all__ = ["CertInfo", "certificate", "parse_certificate"]


@dataclass(frozen=True)
class CertInfo:
    """The parts of an X.509 certificate sealer looks at (times are UTC)."""

    subject: str
    issuer: str
    serial: int
    not_before: dt.datetime
    not_after: dt.datetime
    dns_names: tuple[str, ...]
    ip_addresses: tuple[str, ...]
    is_ca: bool

    def days_left(self, now: dt.datetime | None = None) -> float:
        now = now or dt.datetime.now(dt.UTC)
        return (self.not_after - now).total_seconds() / 86400


def parse_certificate(pem: bytes) -> CertInfo:
    """The first certificate of a PEM file::

    -----BEGIN CERTIFICATE-----
    MIIC/jCCAeagAwIBAgIBADANBgkqhkiG9w0BAQsFADAVMRMwEQYDVQQDEwprdWJl
    ...
    -----END CERTIFICATE-----
    """
    cert = x509.load_pem_x509_certificate(pem)
    dns: tuple[str, ...] = ()
    ips: tuple[str, ...] = ()
    try:
        san = cert.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_ALTERNATIVE_NAME).value
    except x509.ExtensionNotFound:
        pass
    else:
        assert isinstance(san, x509.SubjectAlternativeName)
        dns = tuple(san.get_values_for_type(x509.DNSName))
        ips = tuple(str(ip) for ip in san.get_values_for_type(x509.IPAddress))
    try:
        basic = cert.extensions.get_extension_for_oid(ExtensionOID.BASIC_CONSTRAINTS).value
        is_ca = isinstance(basic, x509.BasicConstraints) and basic.ca
    except x509.ExtensionNotFound:
        is_ca = False
    return CertInfo(
        subject=cert.subject.rfc4514_string(),
        issuer=cert.issuer.rfc4514_string(),
        serial=cert.serial_number,
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        dns_names=dns,
        ip_addresses=ips,
        is_ca=is_ca,
    )


def _parse(result: Result) -> CertInfo | None:
    if result.exit_status != 0:
        if "No such file or directory" in result.stderr:
            return None
        raise UnexpectedExit(result)
    return parse_certificate(result.stdout.encode("utf-8"))


def certificate(path: str) -> Fact[CertInfo | None]:
    """The certificate at remote ``path`` (None when the file does not exist)."""
    return Fact(f"certificate {path}", ("cat", "--", path), _parse)
