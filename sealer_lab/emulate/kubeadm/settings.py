"""The resolved settings of one kubeadm run: config documents + flags + kubeadm's defaults."""

from __future__ import annotations

import ipaddress
import socket
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sealer_lab.emulate import runtime
from sealer_lab.emulate.kubeadm.config import Config, extra_args
from sealer_lab.emulate.kubeadm.errors import KubeadmError
from sealer_lab.emulate.versions import MINORS, Version, parse_version

__all__ = ["KUBE_DIR", "Settings", "default_ip", "kubeadm_version", "resolve"]

KUBE_DIR = Path("/etc/kubernetes")
MANIFESTS = KUBE_DIR / "manifests"
KUBELET_DIR = Path("/var/lib/kubelet")
DEFAULT_CRI = "unix:///var/run/containerd/containerd.sock"


def kubeadm_version() -> Version:
    v = parse_version(runtime.k8s_version())
    assert v is not None
    return v


def default_ip() -> str:
    """The address kubeadm picks by default: the first global IPv4 address of the host."""
    try:
        out = subprocess.run(
            ["ip", "-4", "-o", "addr", "show", "scope", "global"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout
    except OSError:
        out = ""
    for line in out.splitlines():
        parts = line.split()
        if "inet" in parts:
            return parts[parts.index("inet") + 1].split("/")[0]
    return "127.0.0.1"


def hostname() -> str:
    return socket.gethostname().lower()


@dataclass
class Settings:
    """Everything the phases need, resolved once."""

    version: Version
    kubeadm: Version
    node_name: str
    advertise_address: str
    bind_port: int = 6443
    control_plane_endpoint: str = ""
    pod_subnet: str = ""
    service_subnet: str = "10.96.0.0/12"
    dns_domain: str = "cluster.local"
    cert_sans: list[str] = field(default_factory=list)
    image_repository: str = "registry.k8s.io"
    cluster_name: str = "kubernetes"
    cert_dir: Path = KUBE_DIR / "pki"
    etcd_data_dir: str = "/var/lib/etcd"
    etcd_external: dict[str, Any] = field(default_factory=dict)
    etcd_server_sans: list[str] = field(default_factory=list)
    etcd_peer_sans: list[str] = field(default_factory=list)
    apiserver_args: dict[str, str] = field(default_factory=dict)
    controller_manager_args: dict[str, str] = field(default_factory=dict)
    scheduler_args: dict[str, str] = field(default_factory=dict)
    etcd_args: dict[str, str] = field(default_factory=dict)
    cri_socket: str = DEFAULT_CRI
    kubelet_args: dict[str, str] = field(default_factory=dict)
    taints: list[dict[str, str]] | None = None
    ignore_preflight: list[str] = field(default_factory=list)
    skip_phases: list[str] = field(default_factory=list)
    bootstrap_tokens: list[dict[str, Any]] = field(default_factory=list)
    certificate_key: str = ""
    kubelet_config: dict[str, Any] = field(default_factory=dict)
    kube_proxy_config: dict[str, Any] = field(default_factory=dict)
    cluster_doc: dict[str, Any] = field(default_factory=dict)
    api_version: str = "kubeadm.k8s.io/v1beta3"

    @property
    def api_server_url(self) -> str:
        return f"https://{self.endpoint()}"

    def endpoint(self) -> str:
        if self.control_plane_endpoint:
            cpe = self.control_plane_endpoint
            return cpe if ":" in cpe.rsplit("]", 1)[-1] else f"{cpe}:{self.bind_port}"
        return f"{_host(self.advertise_address)}:{self.bind_port}"

    @property
    def local_url(self) -> str:
        return f"https://{_host(self.advertise_address)}:{self.bind_port}"

    def first_service_ip(self) -> str:
        net = ipaddress.ip_network(self.service_subnet.split(",")[0], strict=False)
        return str(net.network_address + 1)

    def dns_ip(self) -> str:
        net = ipaddress.ip_network(self.service_subnet.split(",")[0], strict=False)
        return str(net.network_address + 10)

    def skipped(self, phase: str) -> bool:
        return any(phase == s or phase.startswith(s + "/") for s in self.skip_phases)

    def ignored(self, check: str) -> bool:
        lowered = [i.lower() for i in self.ignore_preflight]
        return "all" in lowered or check.lower() in lowered


def _host(ip: str) -> str:
    return f"[{ip}]" if ":" in ip else ip


def resolve(cfg: Config, *, joining: bool = False) -> Settings:
    kadm = kubeadm_version()
    cluster = cfg.cluster
    init = cfg.join if joining else cfg.init
    nodereg = init.get("nodeRegistration") or {}
    version_text = str(cluster.get("kubernetesVersion") or kadm)
    version = parse_version(version_text)
    if version is None:
        raise KubeadmError(
            f'couldn\'t parse Kubernetes version "{version_text}": unable to parse version'
        )
    if version.minor not in MINORS:
        raise KubeadmError(f"unsupported Kubernetes version {version}")
    if not joining:
        minimum = Version(kadm.major, kadm.minor - 1, 0)
        if version < minimum:
            raise KubeadmError(
                "this version of kubeadm only supports deploying clusters with the control "
                f"plane version >= {minimum.major}.{minimum.minor}.0. Current version: {version}"
            )
        if version.minor > kadm.minor:
            raise KubeadmError(
                f"the specified version to install is too high: {version} (kubeadm is {kadm})"
            )
    endpoint = init.get("localAPIEndpoint") or {}
    if joining:
        endpoint = (init.get("controlPlane") or {}).get("localAPIEndpoint") or {}
    adv = str(endpoint.get("advertiseAddress") or default_ip())
    try:
        ipaddress.ip_address(adv)
    except ValueError:
        raise KubeadmError(
            f'couldn\'t use "{adv}" as "apiserver-advertise-address", must be ipv4 or ipv6 address'
        ) from None
    networking = cluster.get("networking") or {}
    etcd = cluster.get("etcd") or {}
    local_etcd = etcd.get("local") or {}
    apiserver = cluster.get("apiServer") or {}
    s = Settings(
        version=version,
        kubeadm=kadm,
        node_name=str(nodereg.get("name") or hostname()),
        advertise_address=adv,
        bind_port=int(endpoint.get("bindPort") or 6443),
        control_plane_endpoint=str(cluster.get("controlPlaneEndpoint") or ""),
        pod_subnet=str(networking.get("podSubnet") or ""),
        service_subnet=str(networking.get("serviceSubnet") or "10.96.0.0/12"),
        dns_domain=str(networking.get("dnsDomain") or "cluster.local"),
        cert_sans=[str(x) for x in apiserver.get("certSANs") or []],
        image_repository=str(cluster.get("imageRepository") or "registry.k8s.io"),
        cluster_name=str(cluster.get("clusterName") or "kubernetes"),
        cert_dir=Path(str(cluster.get("certificatesDir") or KUBE_DIR / "pki")),
        etcd_data_dir=str(local_etcd.get("dataDir") or "/var/lib/etcd"),
        etcd_external=dict(etcd.get("external") or {}),
        etcd_server_sans=[str(x) for x in local_etcd.get("serverCertSANs") or []],
        etcd_peer_sans=[str(x) for x in local_etcd.get("peerCertSANs") or []],
        apiserver_args=extra_args(apiserver.get("extraArgs")),
        controller_manager_args=extra_args(
            (cluster.get("controllerManager") or {}).get("extraArgs")
        ),
        scheduler_args=extra_args((cluster.get("scheduler") or {}).get("extraArgs")),
        etcd_args=extra_args(local_etcd.get("extraArgs")),
        cri_socket=str(nodereg.get("criSocket") or DEFAULT_CRI),
        kubelet_args=extra_args(nodereg.get("kubeletExtraArgs")),
        taints=nodereg.get("taints"),
        ignore_preflight=[str(x) for x in nodereg.get("ignorePreflightErrors") or []],
        skip_phases=[str(x) for x in init.get("skipPhases") or []],
        bootstrap_tokens=list(init.get("bootstrapTokens") or []),
        certificate_key=str(
            (init.get("controlPlane") or {}).get("certificateKey", "")
            if joining
            else init.get("certificateKey", "")
        ),
        kubelet_config=dict(cfg.kubelet),
        kube_proxy_config=dict(cfg.kube_proxy),
        cluster_doc=dict(cluster),
        api_version=cfg.api_version
        or ("kubeadm.k8s.io/v1beta4" if kadm.minor >= 31 else "kubeadm.k8s.io/v1beta3"),
    )
    return s
