"""Helpers shared by the kubeadm commands: output, admin client, waiting for the API."""

from __future__ import annotations

import sys
from pathlib import Path

from sealer_lab.emulate import kubeconfig, pki
from sealer_lab.emulate.kubeadm.errors import KubeadmError
from sealer_lab.emulate.kubeadm.settings import KUBE_DIR, Settings
from sealer_lab.emulate.kubeapi import Client

__all__ = ["admin_client", "join_command", "say"]


def say(lines: list[str] | str) -> None:
    if isinstance(lines, str):
        lines = [lines]
    for line in lines:
        sys.stdout.write(line + "\n")
    sys.stdout.flush()


def admin_client(path: Path = KUBE_DIR / "admin.conf", timeout: float = 10.0) -> Client:
    for candidate in (path, KUBE_DIR / "super-admin.conf"):
        if candidate.is_file():
            return Client.from_kubeconfig(kubeconfig.load(candidate), timeout=timeout)
    raise KubeadmError(f"failed to load admin kubeconfig: open {path}: no such file or directory")


def local_client(s: Settings, path: Path = KUBE_DIR / "admin.conf") -> Client:
    """The admin credentials, aimed at this host's own API server."""
    c = admin_client(path)
    return Client(
        server=s.local_url,
        ca_pem=c.ca_pem,
        cert_pem=c.cert_pem,
        key_pem=c.key_pem,
        token=c.token,
        timeout=c.timeout,
    )


def ca_hash(cert_dir: Path) -> str:
    return pki.ca_cert_hash(pki.load_cert(cert_dir / "ca.crt"))


def join_command(
    endpoint: str, token: str, ca_hash_value: str, *, control_plane: bool = False, key: str = ""
) -> str:
    cmd = (
        f"kubeadm join {endpoint} --token {token} \\\n"
        f"\t--discovery-token-ca-cert-hash {ca_hash_value}"
    )
    if control_plane:
        cmd += " \\\n\t--control-plane"
        if key:
            cmd += f" --certificate-key {key}"
    return cmd
