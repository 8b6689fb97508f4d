"""Pre-flight checks, named and worded as kubeadm names and words them."""

from __future__ import annotations

import os
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

from sealer_lab.emulate.kubeadm.errors import PhaseError
from sealer_lab.emulate.kubeadm.settings import KUBE_DIR, MANIFESTS, Settings

__all__ = ["Check", "control_plane_checks", "node_checks", "run_checks"]


@dataclass(frozen=True)
class Check:
    name: str
    message: str  # empty: passed
    warning_only: bool = False


def _port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("", port))
        except OSError:
            return True
    return False


def _label(path: Path) -> str:
    return str(path).replace("/", "-")


def port_check(port: int) -> Check:
    return Check(f"Port-{port}", f"Port {port} is in use" if _port_in_use(port) else "")


def file_available(path: Path) -> Check:
    return Check(f"FileAvailable-{_label(path)}", f"{path} already exists" if path.exists() else "")


def dir_available(path: Path) -> Check:
    busy = path.is_dir() and any(path.iterdir())
    return Check(f"DirAvailable-{_label(path)}", f"{path} is not empty" if busy else "")


def root_check() -> Check:
    return Check("IsPrivilegedUser", "" if os.geteuid() == 0 else "user is not running as root")


def kubelet_enabled() -> Check:
    try:
        rc = subprocess.run(
            ["systemctl", "is-enabled", "kubelet.service"], check=False, capture_output=True
        ).returncode
    except OSError:
        rc = 1
    msg = (
        ""
        if rc == 0
        else ("kubelet service is not enabled, please run 'systemctl enable kubelet.service'")
    )
    return Check("Service-Kubelet", msg, warning_only=True)


def control_plane_checks(s: Settings, local_etcd: bool) -> list[Check]:
    checks = [root_check(), port_check(s.bind_port), port_check(10259), port_check(10257)]
    for name in ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "etcd"):
        checks.append(file_available(MANIFESTS / f"{name}.yaml"))
    checks.append(kubelet_enabled())
    checks.append(port_check(10250))
    if local_etcd:
        checks += [port_check(2379), port_check(2380), dir_available(Path(s.etcd_data_dir))]
    return checks


def node_checks(*, control_plane: bool) -> list[Check]:
    checks = [
        root_check(),
        file_available(KUBE_DIR / "kubelet.conf"),
        file_available(KUBE_DIR / "bootstrap-kubelet.conf"),
        kubelet_enabled(),
        port_check(10250),
    ]
    if not control_plane:
        checks.append(file_available(KUBE_DIR / "pki" / "ca.crt"))
    return checks


def run_checks(s: Settings, checks: list[Check]) -> list[str]:
    out = ["[preflight] Running pre-flight checks"]
    errors: list[str] = []
    for c in checks:
        if not c.message:
            continue
        if c.warning_only or s.ignored(c.name):
            out.append(f"\t[WARNING {c.name}]: {c.message}")
        else:
            errors.append(f"\t[ERROR {c.name}]: {c.message}")
    if errors:
        raise PhaseError(
            "preflight",
            "[preflight] Some fatal errors occurred:\n" + "\n".join(errors) + "\n[preflight] "
            "If you know what you are doing, you can make a check non-fatal with "
            "`--ignore-preflight-errors=...`",
        )
    return out
