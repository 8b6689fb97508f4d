"""Reading the cluster's kubeadm configuration back (the kubeadm-config ConfigMap)."""

from __future__ import annotations

import time

from sealer_lab.emulate import yamlio
from sealer_lab.emulate.kubeadm.config import Config, decode_documents
from sealer_lab.emulate.kubeadm.errors import KubeadmError
from sealer_lab.emulate.kubeadm.settings import kubeadm_version
from sealer_lab.emulate.kubeapi import ApiError, Client

__all__ = ["cluster_config"]


def short_retry() -> float:
    """kubeadm's GetConfigMapWithShortRetry: 350 ms before 1.31, the 1 min API-call timeout
    from 1.31 (v1beta4 timeouts)."""
    return 60.0 if kubeadm_version().minor >= 31 else 0.35


def cluster_config(c: Client) -> Config:
    deadline = time.monotonic() + short_retry()
    while True:
        try:
            cm = c.get("/api/v1/namespaces/kube-system/configmaps/kubeadm-config")
            break
        except ApiError as exc:
            if time.monotonic() < deadline:
                time.sleep(0.05)
                continue
            raise KubeadmError(
                "unable to fetch the kubeadm-config ConfigMap: failed to get configmap: "
                f"{exc.message}"
            ) from None
    text = (cm.get("data") or {}).get("ClusterConfiguration", "")
    if not text:
        raise KubeadmError(
            "unable to fetch the kubeadm-config ConfigMap: unexpected error when reading "
            "kubeadm-config ConfigMap: ClusterConfiguration key value pair missing"
        )
    doc = yamlio.load(text) or {}
    cfg = decode_documents(yamlio.dump(doc), kubeadm_version())
    try:
        kubelet = c.get("/api/v1/namespaces/kube-system/configmaps/kubelet-config")
        cfg.kubelet = yamlio.load((kubelet.get("data") or {}).get("kubelet", "")) or {}
    except ApiError:
        pass
    return cfg
