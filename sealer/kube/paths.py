"""Where kubeadm and sealer keep their files on a master (constants only)."""

from __future__ import annotations

__all__ = [
    "API_SERVER_PORT",
    "CRI_SOCKET",
    "KUBEADM_CONFIG_PATH",
    "KUBEADM_RUN_CONFIG_PATH",
    "KUBELET_CLIENT_CERT_PATH",
    "KUBERNETES_DIR",
    "PKI_DIR",
    "SEALER_DIR",
]

#: Root of every path in a PKI file map (``pki/ca.crt`` is ``/etc/kubernetes/pki/ca.crt``).
KUBERNETES_DIR = "/etc/kubernetes"
PKI_DIR = f"{KUBERNETES_DIR}/pki"
SEALER_DIR = f"{KUBERNETES_DIR}/sealer"

#: The rendered kubeadm configuration sealer keeps on each host, secrets replaced by
#: placeholders (so it can be shown and compared; tokens change on every run).
KUBEADM_CONFIG_PATH = f"{SEALER_DIR}/kubeadm.yaml"
#: The same file with the real token and certificate key, mode 0600, written just before
#: ``kubeadm init/join --config`` and removed right after.
KUBEADM_RUN_CONFIG_PATH = f"{SEALER_DIR}/kubeadm-run.yaml"

#: The kubelet's rotated client certificate (kubelet.conf points at it after TLS bootstrap).
KUBELET_CLIENT_CERT_PATH = "/var/lib/kubelet/pki/kubelet-client-current.pem"

API_SERVER_PORT = 6443
CRI_SOCKET = "unix:///run/containerd/containerd.sock"
