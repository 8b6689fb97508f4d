"""The kubeconfig phase: admin, super-admin (>= 1.29), kubelet, controller-manager, scheduler."""

from __future__ import annotations

from pathlib import Path

from sealer_lab.emulate import kubeconfig, pki
from sealer_lab.emulate.kubeadm.config import klog_warning
from sealer_lab.emulate.kubeadm.errors import PhaseError
from sealer_lab.emulate.kubeadm.settings import KUBE_DIR, Settings

__all__ = ["ensure_kubeconfigs", "kubeconfig_specs"]


def kubeconfig_specs(s: Settings, *, kubelet: bool) -> dict[str, tuple[pki.CertSpec, str]]:
    """file name -> (client certificate spec, server URL). ``kubelet`` is True for ``init``,
    which also writes kubelet.conf and, from 1.29, super-admin.conf; a control-plane
    ``join`` writes neither (the joining kubelet bootstraps its own kubelet.conf)."""
    admin_org = "kubeadm:cluster-admins" if s.version.minor >= 29 else "system:masters"
    specs: dict[str, tuple[pki.CertSpec, str]] = {
        "admin.conf": (
            pki.CertSpec("kubernetes-admin", (admin_org,), client=True),
            s.api_server_url,
        ),
    }
    if s.version.minor >= 29 and kubelet:
        specs["super-admin.conf"] = (
            pki.CertSpec("kubernetes-super-admin", ("system:masters",), client=True),
            s.api_server_url,
        )
    if kubelet:
        specs["kubelet.conf"] = (
            pki.CertSpec(f"system:node:{s.node_name}", ("system:nodes",), client=True),
            s.api_server_url,
        )
    specs["controller-manager.conf"] = (
        pki.CertSpec("system:kube-controller-manager", client=True),
        s.local_url,
    )
    specs["scheduler.conf"] = (pki.CertSpec("system:kube-scheduler", client=True), s.local_url)
    return specs


def _user(name: str) -> str:
    return {
        "admin.conf": "kubernetes-admin",
        "super-admin.conf": "kubernetes-super-admin",
        "controller-manager.conf": "system:kube-controller-manager",
        "scheduler.conf": "system:kube-scheduler",
    }.get(name, "")


def ensure_kubeconfigs(s: Settings, *, kubelet: bool, kube_dir: Path = KUBE_DIR) -> list[str]:
    out = [f'[kubeconfig] Using kubeconfig folder "{kube_dir}"']
    ca_cert = pki.load_cert(s.cert_dir / "ca.crt")
    ca_key = pki.load_key(s.cert_dir / "ca.key")
    ca_pem = pki.cert_pem(ca_cert)
    for name, (spec, server) in kubeconfig_specs(s, kubelet=kubelet).items():
        path = kube_dir / name
        if path.is_file():
            existing = kubeconfig.load(path)
            if existing.ca_pem.strip() != ca_pem.strip():
                raise PhaseError(
                    f"kubeconfig/{name.removesuffix('.conf')}",
                    f'a kubeconfig file "{path}" exists already but has got the wrong CA cert',
                )
            if existing.server != server:
                klog_warning(
                    f'a kubeconfig file "{path}" exists already but has an unexpected API '
                    f"Server URL: expected: {server}, got: {existing.server}",
                    "kubeconfig.go:0",
                )
            out.append(f'[kubeconfig] Using existing kubeconfig file: "{path}"')
            continue
        cert, key = pki.sign_leaf(ca_cert, ca_key, spec)
        user = _user(name) or spec.cn
        cfg = kubeconfig.Kubeconfig(
            server=server,
            ca_pem=ca_pem,
            user=user,
            cert_pem=pki.cert_pem(cert),
            key_pem=pki.key_pem(key),
            cluster_name=s.cluster_name,
        )
        pki.write_file(path, kubeconfig.render(cfg).encode(), 0o600)
        out.append(f'[kubeconfig] Writing "{name}" kubeconfig file')
    return out


def renew_kubeconfig(s: Settings, path: Path) -> bool:
    if not path.is_file():
        return False
    existing = kubeconfig.load(path)
    if not existing.cert_pem:
        return False
    from cryptography import x509

    old = x509.load_pem_x509_certificate(existing.cert_pem)
    ca_cert = pki.load_cert(s.cert_dir / "ca.crt")
    ca_key = pki.load_key(s.cert_dir / "ca.key")
    cert, key = pki.sign_leaf(ca_cert, ca_key, pki.spec_of(old))
    cfg = kubeconfig.Kubeconfig(
        server=existing.server,
        ca_pem=existing.ca_pem,
        user=existing.user,
        cert_pem=pki.cert_pem(cert),
        key_pem=pki.key_pem(key),
        cluster_name=existing.cluster_name,
    )
    pki.write_file(path, kubeconfig.render(cfg).encode(), 0o600)
    return True
