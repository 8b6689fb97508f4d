"""What the certificates on a master say: the pure part of ``sealer certs check``.

Given the bytes of the files read from one host, :func:`check_certificates` returns one
typed row per certificate (``*.crt``, ``*.pem`` and the client certificates embedded in
kubeconfigs): subject, SANs, expiry, days left, which CA issued it and whether its
signature really verifies against that CA. Private keys among the files are ignored.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature

from sealer.errors import KubeError
from sealer.kube.kubeconfig import parse_kubeconfig
from sealer.layout import KUBELET_CLIENT_CERT_PATH, KUBERNETES_DIR

__all__ = ["FILES_TO_READ", "CertRow", "check_certificates"]

#: The files ``sealer certs check`` reads on each master (absolute paths). Missing files are
#: simply absent from the map passed to :func:`check_certificates`.
FILES_TO_READ: tuple[str, ...] = (
    *(
        f"{KUBERNETES_DIR}/pki/{name}.crt"
        for name in (
            "ca",
            "apiserver",
            "apiserver-kubelet-client",
            "apiserver-etcd-client",
            "front-proxy-ca",
            "front-proxy-client",
            "etcd/ca",
            "etcd/server",
            "etcd/peer",
            "etcd/healthcheck-client",
        )
    ),
    *(
        f"{KUBERNETES_DIR}/{name}.conf"
        for name in ("admin", "super-admin", "controller-manager", "scheduler", "kubelet")
    ),
    KUBELET_CLIENT_CERT_PATH,
)

_CA_NAMES = {"ca.crt": "ca", "front-proxy-ca.crt": "front-proxy-ca", "etcd/ca.crt": "etcd-ca"}


@dataclass(frozen=True)
class CertRow:
    """One certificate found on a host."""

    host: str
    name: str  # the file, e.g. "pki/apiserver.crt" or "admin.conf"
    subject: str
    sans: tuple[str, ...]
    not_before: dt.datetime
    not_after: dt.datetime
    days_left: int
    is_ca: bool
    issuer: str  # "ca", "front-proxy-ca", "etcd-ca", "self-signed", or the issuer's DN
    signed_by_ca_ok: bool | None  # None when the issuing CA is not among the files

    def to_json(self) -> dict[str, Any]:
        return {
            "host": self.host,
            "name": self.name,
            "subject": self.subject,
            "sans": list(self.sans),
            "not_before": self.not_before.isoformat(),
            "not_after": self.not_after.isoformat(),
            "days_left": self.days_left,
            "is_ca": self.is_ca,
            "issuer": self.issuer,
            "signed_by_ca_ok": self.signed_by_ca_ok,
        }


def _short(path: str) -> str:
    return path.removeprefix(f"{KUBERNETES_DIR}/")


def _ca_label(name: str) -> str | None:
    return _CA_NAMES.get(name.removeprefix("pki/"))


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return False


def _sans(cert: x509.Certificate) -> tuple[str, ...]:
    try:
        ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return ()
    names: list[str] = list(ext.get_values_for_type(x509.DNSName))
    names += [str(ip) for ip in ext.get_values_for_type(x509.IPAddress)]
    return tuple(names)


def _first_cert(data: bytes, name: str) -> x509.Certificate | None:
    if b"-----BEGIN CERTIFICATE-----" not in data:
        return None
    try:
        return x509.load_pem_x509_certificates(data)[0]
    except ValueError:
        raise KubeError(f"{name}: the certificate cannot be parsed") from None


def _verifies(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def check_certificates(
    host: str, files: Mapping[str, bytes], *, now: dt.datetime | None = None
) -> list[CertRow]:
    """Rows for every certificate in ``files`` (path -> bytes, as read from ``host``).

    Paths may be absolute or relative to /etc/kubernetes. Kubeconfigs contribute their
    embedded client certificate; one that points at a file (kubelet.conf after TLS
    bootstrap) contributes nothing, the file itself is read instead. CAs are recognised by
    their kubeadm paths and, failing that, by subject among the CA certificates present.
    """
    moment = now or dt.datetime.now(dt.UTC)
    found: list[tuple[str, x509.Certificate]] = []
    for path, data in sorted(files.items()):
        name = _short(path)
        if name.endswith(".conf"):
            info = parse_kubeconfig(data, f"{host}: {path}")
            if info.client_cert_pem is not None:
                cert = _first_cert(info.client_cert_pem, f"{host}: {path}")
                if cert is not None:
                    found.append((name, cert))
            continue
        cert = _first_cert(data, f"{host}: {path}")
        if cert is not None:
            found.append((name, cert))

    cas: list[tuple[str, x509.Certificate]] = []
    for name, cert in found:
        if _is_ca(cert):
            cas.append((_ca_label(name) or cert.subject.rfc4514_string(), cert))

    rows: list[CertRow] = []
    for name, cert in found:
        issuer_label, ok = _issuer_of(cert, cas)
        left = cert.not_valid_after_utc - moment
        rows.append(
            CertRow(
                host=host,
                name=name,
                subject=cert.subject.rfc4514_string(),
                sans=_sans(cert),
                not_before=cert.not_valid_before_utc,
                not_after=cert.not_valid_after_utc,
                days_left=left.days,
                is_ca=_is_ca(cert),
                issuer=issuer_label,
                signed_by_ca_ok=ok,
            )
        )
    return rows


def _issuer_of(
    cert: x509.Certificate, cas: list[tuple[str, x509.Certificate]]
) -> tuple[str, bool | None]:
    if cert.issuer == cert.subject and _verifies(cert, cert):
        return "self-signed", True
    candidates = [(label, ca) for label, ca in cas if ca.subject == cert.issuer]
    for label, ca in candidates:
        if _verifies(cert, ca):
            return label, True
    if candidates:
        return candidates[0][0], False
    return cert.issuer.rfc4514_string(), None
