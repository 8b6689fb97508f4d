"""The certs phase (keep what exists, generate what is missing), renewal and expiration."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509

from sealer_lab.emulate import pki
from sealer_lab.emulate.kubeadm.errors import PhaseError
from sealer_lab.emulate.kubeadm.settings import Settings

__all__ = ["CAS", "LEAVES", "ensure_certs", "leaf_specs", "renew", "shared_files"]


@dataclass(frozen=True)
class Leaf:
    name: str  # kubeadm's certificate name (for renew / check-expiration)
    base: str  # file base name under the certificates dir
    ca: str  # base name of the signing CA
    etcd: bool = False  # only with a local etcd


CAS = {"ca": "kubernetes", "front-proxy-ca": "front-proxy-ca", "etcd/ca": "etcd-ca"}
CA_NAMES = {"ca": "ca", "front-proxy-ca": "front-proxy-ca", "etcd/ca": "etcd-ca"}
LEAVES = [
    Leaf("apiserver", "apiserver", "ca"),
    Leaf("apiserver-kubelet-client", "apiserver-kubelet-client", "ca"),
    Leaf("front-proxy-client", "front-proxy-client", "front-proxy-ca"),
    Leaf("etcd-server", "etcd/server", "etcd/ca", etcd=True),
    Leaf("etcd-peer", "etcd/peer", "etcd/ca", etcd=True),
    Leaf("etcd-healthcheck-client", "etcd/healthcheck-client", "etcd/ca", etcd=True),
    Leaf("apiserver-etcd-client", "apiserver-etcd-client", "etcd/ca", etcd=True),
]


def leaf_specs(s: Settings) -> dict[str, pki.CertSpec]:
    node, ip = s.node_name, s.advertise_address
    cpe_host = s.control_plane_endpoint.rsplit(":", 1)[0] if s.control_plane_endpoint else ""
    dns = [
        "kubernetes",
        "kubernetes.default",
        "kubernetes.default.svc",
        f"kubernetes.default.svc.{s.dns_domain}",
        node,
    ]
    ips = [s.first_service_ip(), ip]
    for extra in [cpe_host, *s.cert_sans]:
        if not extra:
            continue
        (ips if _is_ip(extra) else dns).append(extra)
    etcd_dns = [node, "localhost"]
    etcd_ips = [ip, "127.0.0.1", "::1"]
    server_dns, server_ips = _split(etcd_dns, etcd_ips, s.etcd_server_sans)
    peer_dns, peer_ips = _split(etcd_dns, etcd_ips, s.etcd_peer_sans)
    return {
        "apiserver": pki.CertSpec("kube-apiserver", server=True, dns=_uniq(dns), ips=_uniq(ips)),
        "apiserver-kubelet-client": pki.CertSpec(
            "kube-apiserver-kubelet-client",
            ("kubeadm:cluster-admins",) if s.version.minor >= 29 else ("system:masters",),
            client=True,
        ),
        "front-proxy-client": pki.CertSpec("front-proxy-client", client=True),
        "etcd-server": pki.CertSpec(node, server=True, client=True, dns=server_dns, ips=server_ips),
        "etcd-peer": pki.CertSpec(node, server=True, client=True, dns=peer_dns, ips=peer_ips),
        "etcd-healthcheck-client": pki.CertSpec("kube-etcd-healthcheck-client", client=True),
        "apiserver-etcd-client": pki.CertSpec("kube-apiserver-etcd-client", client=True),
    }


def _is_ip(text: str) -> bool:
    import ipaddress

    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _split(dns: list[str], ips: list[str], extra: list[str]) -> tuple[tuple[str, ...], ...]:
    d, i = list(dns), list(ips)
    for e in extra:
        (i if _is_ip(e) else d).append(e)
    return _uniq(d), _uniq(i)


def _uniq(items: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def shared_files(local_etcd: bool = True) -> list[str]:
    """The files control-plane nodes share (kubeadm-certs / --certificate-key)."""
    files = ["ca.crt", "ca.key", "sa.key", "sa.pub", "front-proxy-ca.crt", "front-proxy-ca.key"]
    if local_etcd:
        files += ["etcd/ca.crt", "etcd/ca.key"]
    return files


def _load_ca(d: Path, base: str) -> tuple[x509.Certificate, object] | None:
    crt, key = d / f"{base}.crt", d / f"{base}.key"
    if crt.is_file() and key.is_file():
        return pki.load_cert(crt), pki.load_key(key)
    return None


def ensure_cas(s: Settings, local_etcd: bool, out: list[str]) -> None:
    d = s.cert_dir
    for base, cn in CAS.items():
        if base == "etcd/ca" and not local_etcd:
            continue
        label = CA_NAMES[base]
        if (d / f"{base}.crt").is_file():
            if not (d / f"{base}.key").is_file() and base != "ca":
                raise PhaseError(
                    f"certs/{label}",
                    f"failure loading {label} certificate authority: couldn't load the private "
                    f"key file {d / base}.key: open {d / base}.key: no such file or directory",
                )
            out.append(f"[certs] Using existing {label} certificate authority")
            continue
        cert, key = pki.new_ca(cn)
        pki.write_pair(d, base, cert, key)
        out.append(f'[certs] Generating "{label}" certificate and key')
    if (d / "sa.key").is_file():
        out.append('[certs] Using the existing "sa" key')
    else:
        key = pki.new_key()
        pki.write_file(d / "sa.key", pki.key_pem(key), 0o600)
        pki.write_file(d / "sa.pub", pki.public_pem(key), 0o644)
        out.append('[certs] Generating "sa" key and public key')


def ensure_leaves(s: Settings, local_etcd: bool, out: list[str]) -> None:
    d = s.cert_dir
    specs = leaf_specs(s)
    for leaf in LEAVES:
        if leaf.etcd and not local_etcd:
            continue
        ca = _load_ca(d, leaf.ca)
        crt = d / f"{leaf.base}.crt"
        if crt.is_file() and (d / f"{leaf.base}.key").is_file():
            cert = pki.load_cert(crt)
            if ca is not None and not pki.signed_by(cert, ca[0]):
                raise PhaseError(
                    f"certs/{leaf.name}",
                    f"certificate {leaf.name} is not signed by corresponding CA",
                )
            missing = _missing_sans(cert, specs[leaf.name])
            if missing:
                dns, ips = pki.sans_of(cert)
                valid = ips if _is_ip(missing[0]) else dns
                raise PhaseError(
                    f"certs/{leaf.name}",
                    f"certificate {leaf.name} is invalid: x509: certificate is valid for "
                    f"{', '.join(valid)}, not {missing[0]}",
                )
            out.append(f"[certs] Using existing {leaf.name} certificate and key on disk")
            continue
        if ca is None:
            raise PhaseError(
                f"certs/{leaf.name}",
                f"couldn't load CA certificate {CA_NAMES[leaf.ca]}: open "
                f"{d / leaf.ca}.key: no such file or directory",
            )
        cert, key = pki.sign_leaf(ca[0], ca[1], specs[leaf.name])  # type: ignore[arg-type]
        pki.write_pair(d, leaf.base, cert, key)
        spec = specs[leaf.name]
        out.append(f'[certs] Generating "{leaf.name}" certificate and key')
        if spec.server:
            names = ", ".join(list(spec.dns)) + "] and IPs [" + " ".join(spec.ips)
            out.append(f"[certs] {leaf.name} serving cert is signed for DNS names [{names}]")


def _missing_sans(cert: x509.Certificate, spec: pki.CertSpec) -> list[str]:
    if not spec.server:
        return []
    dns, ips = pki.sans_of(cert)
    import ipaddress

    have_ips = {ipaddress.ip_address(i) for i in ips}
    missing = [n for n in spec.dns if n not in dns]
    missing += [i for i in spec.ips if ipaddress.ip_address(i) not in have_ips]
    return missing


def ensure_certs(s: Settings, *, local_etcd: bool = True) -> list[str]:
    out = [f'[certs] Using certificateDir folder "{s.cert_dir}"']
    ensure_cas(s, local_etcd, out)
    ensure_leaves(s, local_etcd, out)
    return out


def renew(s: Settings, name: str) -> bool:
    """Renew one leaf with the CA on disk, keeping its identity (1 year). False: not present."""
    d = s.cert_dir
    for leaf in LEAVES:
        if leaf.name != name:
            continue
        crt = d / f"{leaf.base}.crt"
        if not crt.is_file():
            return False
        ca = _load_ca(d, leaf.ca)
        if ca is None:
            return False
        cert = pki.load_cert(crt)
        new, key = pki.sign_leaf(ca[0], ca[1], pki.spec_of(cert))  # type: ignore[arg-type]
        pki.write_pair(d, leaf.base, new, key)
        return True
    return False


def residual(when: dt.datetime) -> str:
    left = when - dt.datetime.now(dt.UTC)
    days = left.days
    if days >= 365:
        return f"{days // 365}y"
    if days >= 1:
        return f"{days}d"
    hours = int(left.total_seconds() // 3600)
    return f"{max(hours, 0)}h"
