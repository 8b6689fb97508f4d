"""Static Pod manifests with the flags real kubeadm writes (etcd, apiserver, cm, scheduler)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sealer_lab.emulate import pki, yamlio
from sealer_lab.emulate.kubeadm.settings import MANIFESTS, Settings
from sealer_lab.emulate.versions import MINORS

__all__ = ["control_plane_manifests", "etcd_manifest", "write_manifest"]

ENDPOINT_ANNOTATION = "kubeadm.kubernetes.io/kube-apiserver.advertise-address.endpoint"


def _flags(name: str, base: dict[str, str], extra: dict[str, str]) -> list[str]:
    merged = {**base, **extra}
    return [name, *(f"--{k}={v}" for k, v in sorted(merged.items()))]


def _host(ip: str) -> str:
    return f"[{ip}]" if ":" in ip else ip


def _pod(
    name: str,
    image: str,
    command: list[str],
    volumes: dict[str, tuple[str, str, bool]],
    *,
    annotations: dict[str, str] | None = None,
    probe_port: int,
    probe_path: str = "/healthz",
    scheme: str = "HTTPS",
    probe_host: str = "127.0.0.1",
    cpu: str = "100m",
) -> dict[str, Any]:
    probe = {
        "failureThreshold": 8,
        "httpGet": {"host": probe_host, "path": probe_path, "port": probe_port, "scheme": scheme},
        "initialDelaySeconds": 10,
        "periodSeconds": 10,
        "timeoutSeconds": 15,
    }
    meta: dict[str, Any] = {
        "labels": {"component": name, "tier": "control-plane"},
        "name": name,
        "namespace": "kube-system",
    }
    if annotations:
        meta = {"annotations": annotations, **meta}
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": meta,
        "spec": {
            "containers": [
                {
                    "command": command,
                    "image": image,
                    "imagePullPolicy": "IfNotPresent",
                    "livenessProbe": probe,
                    "name": name,
                    "resources": {"requests": {"cpu": cpu}},
                    "startupProbe": {**probe, "failureThreshold": 24},
                    "volumeMounts": [
                        {"mountPath": mount, "name": vol, **({"readOnly": True} if ro else {})}
                        for vol, (_host_path, mount, ro) in sorted(volumes.items())
                    ],
                }
            ],
            "hostNetwork": True,
            "priority": 2000001000,
            "priorityClassName": "system-node-critical",
            "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}},
            "volumes": [
                {"hostPath": {"path": host_path, "type": "DirectoryOrCreate"}, "name": vol}
                for vol, (host_path, _mount, _ro) in sorted(volumes.items())
            ],
        },
        "status": {},
    }


def etcd_manifest(s: Settings, initial_cluster: str = "", existing: bool = False) -> dict[str, Any]:
    ip, pki_dir = _host(s.advertise_address), s.cert_dir / "etcd"
    etcd_tag = MINORS[s.version.minor][0]
    base = {
        "advertise-client-urls": f"https://{ip}:2379",
        "cert-file": f"{pki_dir}/server.crt",
        "client-cert-auth": "true",
        "data-dir": s.etcd_data_dir,
        "experimental-initial-corrupt-check": "true",
        "experimental-watch-progress-notify-interval": "5s",
        "initial-advertise-peer-urls": f"https://{ip}:2380",
        "initial-cluster": initial_cluster or f"{s.node_name}=https://{ip}:2380",
        "key-file": f"{pki_dir}/server.key",
        "listen-client-urls": f"https://127.0.0.1:2379,https://{ip}:2379",
        "listen-metrics-urls": "http://127.0.0.1:2381",
        "listen-peer-urls": f"https://{ip}:2380",
        "name": s.node_name,
        "peer-cert-file": f"{pki_dir}/peer.crt",
        "peer-client-cert-auth": "true",
        "peer-key-file": f"{pki_dir}/peer.key",
        "peer-trusted-ca-file": f"{pki_dir}/ca.crt",
        "snapshot-count": "10000",
        "trusted-ca-file": f"{pki_dir}/ca.crt",
    }
    if existing:
        base["initial-cluster-state"] = "existing"
    return _pod(
        "etcd",
        f"{s.image_repository}/etcd:{etcd_tag}",
        _flags("etcd", base, s.etcd_args),
        {
            "etcd-certs": (str(pki_dir), str(pki_dir), False),
            "etcd-data": (s.etcd_data_dir, s.etcd_data_dir, False),
        },
        annotations={"kubeadm.kubernetes.io/etcd.advertise-client-urls": f"https://{ip}:2379"},
        probe_port=2381,
        probe_path="/health?exclude=NOSPACE&serializable=true",
        scheme="HTTP",
    )


def apiserver_manifest(s: Settings) -> dict[str, Any]:
    d = s.cert_dir
    if s.etcd_external:
        etcd = {
            "etcd-servers": ",".join(s.etcd_external.get("endpoints") or []),
            "etcd-cafile": str(s.etcd_external.get("caFile", "")),
            "etcd-certfile": str(s.etcd_external.get("certFile", "")),
            "etcd-keyfile": str(s.etcd_external.get("keyFile", "")),
        }
    else:
        etcd = {
            "etcd-servers": "https://127.0.0.1:2379",
            "etcd-cafile": f"{d}/etcd/ca.crt",
            "etcd-certfile": f"{d}/apiserver-etcd-client.crt",
            "etcd-keyfile": f"{d}/apiserver-etcd-client.key",
        }
    base = {
        "advertise-address": s.advertise_address,
        "allow-privileged": "true",
        "authorization-mode": "Node,RBAC",
        "client-ca-file": f"{d}/ca.crt",
        "enable-admission-plugins": "NodeRestriction",
        "enable-bootstrap-token-auth": "true",
        **etcd,
        "kubelet-client-certificate": f"{d}/apiserver-kubelet-client.crt",
        "kubelet-client-key": f"{d}/apiserver-kubelet-client.key",
        "kubelet-preferred-address-types": "InternalIP,ExternalIP,Hostname",
        "proxy-client-cert-file": f"{d}/front-proxy-client.crt",
        "proxy-client-key-file": f"{d}/front-proxy-client.key",
        "requestheader-allowed-names": "front-proxy-client",
        "requestheader-client-ca-file": f"{d}/front-proxy-ca.crt",
        "requestheader-extra-headers-prefix": "X-Remote-Extra-",
        "requestheader-group-headers": "X-Remote-Group",
        "requestheader-username-headers": "X-Remote-User",
        "secure-port": str(s.bind_port),
        "service-account-issuer": f"https://kubernetes.default.svc.{s.dns_domain}",
        "service-account-key-file": f"{d}/sa.pub",
        "service-account-signing-key-file": f"{d}/sa.key",
        "service-cluster-ip-range": s.service_subnet,
        "tls-cert-file": f"{d}/apiserver.crt",
        "tls-private-key-file": f"{d}/apiserver.key",
    }
    return _pod(
        "kube-apiserver",
        f"{s.image_repository}/kube-apiserver:{s.version}",
        _flags("kube-apiserver", base, s.apiserver_args),
        {
            "ca-certs": ("/etc/ssl/certs", "/etc/ssl/certs", True),
            "k8s-certs": (str(d), str(d), True),
        },
        annotations={ENDPOINT_ANNOTATION: f"{_host(s.advertise_address)}:{s.bind_port}"},
        probe_port=s.bind_port,
        probe_path="/livez",
        probe_host=s.advertise_address,
        cpu="250m",
    )


def controller_manager_manifest(s: Settings) -> dict[str, Any]:
    d, conf = s.cert_dir, "/etc/kubernetes/controller-manager.conf"
    base = {
        "authentication-kubeconfig": conf,
        "authorization-kubeconfig": conf,
        "bind-address": "127.0.0.1",
        "client-ca-file": f"{d}/ca.crt",
        "cluster-name": s.cluster_name,
        "cluster-signing-cert-file": f"{d}/ca.crt",
        "cluster-signing-key-file": f"{d}/ca.key",
        "controllers": "*,bootstrapsigner,tokencleaner",
        "kubeconfig": conf,
        "leader-elect": "true",
        "requestheader-client-ca-file": f"{d}/front-proxy-ca.crt",
        "root-ca-file": f"{d}/ca.crt",
        "service-account-private-key-file": f"{d}/sa.key",
        "service-cluster-ip-range": s.service_subnet,
        "use-service-account-credentials": "true",
    }
    if s.pod_subnet:
        base["allocate-node-cidrs"] = "true"
        base["cluster-cidr"] = s.pod_subnet
    return _pod(
        "kube-controller-manager",
        f"{s.image_repository}/kube-controller-manager:{s.version}",
        _flags("kube-controller-manager", base, s.controller_manager_args),
        {
            "ca-certs": ("/etc/ssl/certs", "/etc/ssl/certs", True),
            "k8s-certs": (str(d), str(d), True),
            "kubeconfig": (conf, conf, True),
        },
        probe_port=10257,
        cpu="200m",
    )


def scheduler_manifest(s: Settings) -> dict[str, Any]:
    conf = "/etc/kubernetes/scheduler.conf"
    base = {
        "authentication-kubeconfig": conf,
        "authorization-kubeconfig": conf,
        "bind-address": "127.0.0.1",
        "kubeconfig": conf,
        "leader-elect": "true",
    }
    return _pod(
        "kube-scheduler",
        f"{s.image_repository}/kube-scheduler:{s.version}",
        _flags("kube-scheduler", base, s.scheduler_args),
        {"kubeconfig": (conf, conf, True)},
        probe_port=10259,
    )


def control_plane_manifests(s: Settings) -> dict[str, dict[str, Any]]:
    return {
        "kube-apiserver": apiserver_manifest(s),
        "kube-controller-manager": controller_manager_manifest(s),
        "kube-scheduler": scheduler_manifest(s),
    }


def write_manifest(name: str, manifest: dict[str, Any], directory: Path = MANIFESTS) -> Path:
    path = directory / f"{name}.yaml"
    pki.write_file(path, yamlio.dump(manifest).encode(), 0o600)
    return path
