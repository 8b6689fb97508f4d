"""A Kubernetes cluster made by hand on the session lab with the emulated offline package:
no sealer orchestration, only what an operator would type (tar, init.sh, kubeadm, kubectl)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import sealer_lab
from sealer_lab.package import build_package, install_sbin
from tests import waiting

VERSION = "v1.29.3"
NEXT_VERSION = "v1.30.2"
ENDPOINT_NAME = "apiserver.cluster.local"
ETCDCTL = [
    "etcdctl",
    "--endpoints",
    "https://127.0.0.1:2379",
    "--cacert",
    "/etc/kubernetes/pki/etcd/ca.crt",
    "--cert",
    "/etc/kubernetes/pki/etcd/healthcheck-client.crt",
    "--key",
    "/etc/kubernetes/pki/etcd/healthcheck-client.key",
]
CLEANUP = [
    "rm",
    "-rf",
    "/root/kube",
    "/root/kubeadm.yaml",
    "/usr/local/bin/kubeadm",
    "/usr/local/bin/kubelet",
    "/usr/local/bin/kubectl",
    "/usr/local/bin/containerd",
    "/usr/local/bin/crictl",
    "/etc/systemd/system/containerd.service",
    "/etc/containerd",
    "/etc/crictl.yaml",
    "/etc/systemd/system/kubelet.service",
    "/etc/systemd/system/kubelet.service.d",
    "/etc/systemd/system/multi-user.target.wants/kubelet.service",
    "/etc/kubernetes",
]


@dataclass
class Kube:
    """SSH access to the lab hosts of the hand-made cluster."""

    lab: sealer_lab.Lab
    package: Path

    def ssh(
        self,
        host: str,
        argv: list[str],
        *,
        input: str | bytes | None = None,
        check: bool = True,
        timeout: float = 300.0,
    ) -> subprocess.CompletedProcess[str]:
        data = input.encode() if isinstance(input, str) else input
        proc = subprocess.run(
            self.lab.ssh_argv(host, argv),
            input=data,
            capture_output=True,
            check=False,
            timeout=timeout,
        )
        out = subprocess.CompletedProcess(
            proc.args,
            proc.returncode,
            proc.stdout.decode(errors="replace"),
            proc.stderr.decode(errors="replace"),
        )
        if check and out.returncode != 0:
            raise AssertionError(
                f"{host}: {argv} exited {out.returncode}:\n{out.stdout}\n{out.stderr}"
            )
        return out

    def kubectl(
        self, host: str, *args: str, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        return self.ssh(
            host, ["kubectl", "--kubeconfig", "/etc/kubernetes/admin.conf", *args], check=check
        )

    def pod(self, host: str, name: str, namespace: str = "kube-system") -> dict[str, Any]:
        pod: dict[str, Any] = json.loads(
            self.kubectl(host, "get", "pod", "-n", namespace, name, "-o", "json").stdout
        )
        return pod

    def nodes(self, host: str) -> dict[str, dict[str, Any]]:
        items = json.loads(self.kubectl(host, "get", "nodes", "-o", "json").stdout)["items"]
        return {n["metadata"]["name"]: n for n in items}

    def install_network(self, host: str, pod_cidr: str = "10.244.0.0/16") -> None:
        """What an operator does after ``kubeadm init``: apply the package's network add-on
        (calico, its pod CIDR filled in) with kubectl."""
        manifest = "/root/kube/manifests/calico.yaml"
        text = self.ssh(host, ["sed", f"s#@POD_CIDR@#{pod_cidr}#g", manifest]).stdout
        self.ssh(
            host,
            ["kubectl", "--kubeconfig", "/etc/kubernetes/admin.conf", "apply", "-f", "-"],
            input=text,
        )

    def install(self, host: str, endpoint_ip: str, package: Path | None = None) -> None:
        self.ssh(host, ["rm", "-rf", "/root/kube"])
        data = (package or self.package).read_bytes()
        self.ssh(host, ["tar", "xzf", "-", "-C", "/root"], input=data)
        self.ssh(host, ["bash", "/root/kube/shell/init.sh"])
        self.ssh(host, ["sed", "-i", f"/{ENDPOINT_NAME}/d", "/etc/hosts"])
        self.ssh(host, ["tee", "-a", "/etc/hosts"], input=f"{endpoint_ip} {ENDPOINT_NAME}\n")

    def clean(self, host: str) -> None:
        self.ssh(host, ["kubeadm", "reset", "-f"], check=False)
        self.ssh(host, ["systemctl", "stop", "kubelet"], check=False)
        self.ssh(host, ["systemctl", "disable", "--now", "containerd"], check=False)
        self.ssh(host, CLEANUP, check=False)
        self.ssh(host, ["sed", "-i", f"/{ENDPOINT_NAME}/d", "/etc/hosts"], check=False)


def ready(node: dict[str, Any]) -> bool:
    conds = {c["type"]: c["status"] for c in node.get("status", {}).get("conditions", [])}
    return conds.get("Ready") == "True"


def ready_condition(node: dict[str, Any]) -> dict[str, Any]:
    conditions = node.get("status", {}).get("conditions", [])
    return next((c for c in conditions if c["type"] == "Ready"), {})


def wait_for(
    predicate: Any, timeout: float = 120.0, interval: float = 1.0, what: str = "the condition"
) -> bool:
    """True once ``predicate()`` is true; an AssertionError naming ``what`` after ``timeout``."""
    return waiting.wait_for(what, lambda: bool(predicate()) or None, timeout, interval)


def kubeadm_config(address: str, version: str = VERSION) -> str:
    return f"""apiVersion: kubeadm.k8s.io/v1beta3
kind: InitConfiguration
localAPIEndpoint:
  advertiseAddress: {address}
  bindPort: 6443
nodeRegistration:
  criSocket: unix:///run/containerd/containerd.sock
---
apiVersion: kubeadm.k8s.io/v1beta3
kind: ClusterConfiguration
kubernetesVersion: {version}
controlPlaneEndpoint: {ENDPOINT_NAME}:6443
networking:
  podSubnet: 100.64.0.0/10
  serviceSubnet: 10.96.0.0/12
apiServer:
  certSANs: [127.0.0.1, {ENDPOINT_NAME}, {address}]
---
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: ipvs
"""


@pytest.fixture(scope="module")
def kube_package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_package(VERSION, tmp_path_factory.mktemp("kube"))


@pytest.fixture(scope="module")
def next_package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_package(NEXT_VERSION, tmp_path_factory.mktemp("kube-next"))


@pytest.fixture(scope="module")
def kube(lab: sealer_lab.Lab, kube_package: Path) -> Iterator[Kube]:
    """Package installed on every host (not initialised); every host cleaned afterwards."""
    install_sbin(lab.sbin_dir)
    k = Kube(lab, kube_package)
    m1 = lab.masters[0]
    try:
        for h in lab.hosts:
            k.clean(h.name)  # whatever an earlier test area left on the shared lab
            k.install(h.name, m1.address)
        yield k
    finally:
        for h in reversed(lab.hosts):
            k.clean(h.name)
