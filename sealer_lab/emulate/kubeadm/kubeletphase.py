"""The kubelet-start phase: /var/lib/kubelet/config.yaml, kubeadm-flags.env, restart kubelet."""

from __future__ import annotations

import subprocess
import time
import urllib.request
from typing import Any

from sealer_lab.emulate import pki, yamlio
from sealer_lab.emulate.kubeadm.settings import KUBELET_DIR, Settings, hostname
from sealer_lab.emulate.versions import MINORS

__all__ = ["kubelet_config", "restart_kubelet", "write_kubelet_files"]


def kubelet_config(s: Settings) -> dict[str, Any]:
    base: dict[str, Any] = {
        "apiVersion": "kubelet.config.k8s.io/v1beta1",
        "authentication": {
            "anonymous": {"enabled": False},
            "webhook": {"cacheTTL": "0s", "enabled": True},
            "x509": {"clientCAFile": f"{s.cert_dir}/ca.crt"},
        },
        "authorization": {
            "mode": "Webhook",
            "webhook": {"cacheAuthorizedTTL": "0s", "cacheUnauthorizedTTL": "0s"},
        },
        "cgroupDriver": "systemd",
        "clusterDNS": [s.dns_ip()],
        "clusterDomain": s.dns_domain,
        "containerRuntimeEndpoint": "",
        "cpuManagerReconcilePeriod": "0s",
        "evictionPressureTransitionPeriod": "0s",
        "fileCheckFrequency": "0s",
        "healthzBindAddress": "127.0.0.1",
        "healthzPort": 10248,
        "httpCheckFrequency": "0s",
        "imageMaximumGCAge": "0s",
        "imageMinimumGCAge": "0s",
        "kind": "KubeletConfiguration",
        "logging": {
            "flushFrequency": 0,
            "options": {"json": {"infoBufferSize": "0"}},
            "verbosity": 0,
        },
        "memorySwap": {},
        "nodeStatusReportFrequency": "0s",
        "nodeStatusUpdateFrequency": "0s",
        "resolvConf": "/run/systemd/resolve/resolv.conf",
        "rotateCertificates": True,
        "runtimeRequestTimeout": "0s",
        "shutdownGracePeriod": "0s",
        "shutdownGracePeriodCriticalPods": "0s",
        "staticPodPath": "/etc/kubernetes/manifests",
        "streamingConnectionIdleTimeout": "0s",
        "syncFrequency": "0s",
        "volumeStatsAggPeriod": "0s",
    }
    base.update({k: v for k, v in s.kubelet_config.items() if k not in ("apiVersion", "kind")})
    return base


def flags_env(s: Settings) -> str:
    args = {"container-runtime-endpoint": s.cri_socket}
    if s.version.minor < 27:
        args["pod-infra-container-image"] = (
            f"{s.image_repository}/pause:{MINORS[s.version.minor][2]}"
        )
    if s.node_name != hostname():
        args["hostname-override"] = s.node_name
    args.update(s.kubelet_args)
    joined = " ".join(f"--{k}={v}" for k, v in args.items())
    return f'KUBELET_KUBEADM_ARGS="{joined}"\n'


def write_kubelet_files(s: Settings, config: dict[str, Any] | None = None) -> list[str]:
    KUBELET_DIR.mkdir(parents=True, exist_ok=True)
    pki.write_file(KUBELET_DIR / "kubeadm-flags.env", flags_env(s).encode(), 0o644)
    pki.write_file(
        KUBELET_DIR / "config.yaml", yamlio.dump(config or kubelet_config(s)).encode(), 0o644
    )
    return [
        "[kubelet-start] Writing kubelet environment file with flags to file "
        '"/var/lib/kubelet/kubeadm-flags.env"',
        '[kubelet-start] Writing kubelet configuration to file "/var/lib/kubelet/config.yaml"',
    ]


def restart_kubelet() -> list[str]:
    subprocess.run(
        ["systemctl", "restart", "kubelet"],
        check=False,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return ["[kubelet-start] Starting the kubelet"]


def wait_kubelet_healthy(timeout: float = 240.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen("http://127.0.0.1:10248/healthz", timeout=2) as resp:
                if resp.status == 200:
                    return True
        except OSError:
            pass
        time.sleep(0.5)
    return False
