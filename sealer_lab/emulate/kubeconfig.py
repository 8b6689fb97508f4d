"""kubeconfig files as kubeadm writes them (certificate data embedded, base64 PEM)."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sealer_lab.emulate import yamlio

__all__ = ["Kubeconfig", "load", "render"]


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@dataclass(frozen=True)
class Kubeconfig:
    """The one cluster/user/context of a kubeadm kubeconfig."""

    server: str
    ca_pem: bytes
    user: str
    cert_pem: bytes = b""
    key_pem: bytes = b""
    token: str = ""
    cluster_name: str = "kubernetes"


def render(cfg: Kubeconfig) -> str:
    user: dict[str, Any] = {}
    if cfg.cert_pem:
        user["client-certificate-data"] = _b64(cfg.cert_pem)
        user["client-key-data"] = _b64(cfg.key_pem)
    if cfg.token:
        user["token"] = cfg.token
    context = f"{cfg.user}@{cfg.cluster_name}"
    doc: dict[str, Any] = {
        "apiVersion": "v1",
        "clusters": [
            {
                "cluster": {
                    "certificate-authority-data": _b64(cfg.ca_pem),
                    "server": cfg.server,
                },
                "name": cfg.cluster_name,
            }
        ],
        "contexts": [{"context": {"cluster": cfg.cluster_name, "user": cfg.user}, "name": context}],
        "current-context": context,
        "kind": "Config",
        "preferences": {},
        "users": [{"name": cfg.user, "user": user}],
    }
    return yamlio.dump(doc)


def parse(text: str) -> Kubeconfig:
    doc = yamlio.load(text) or {}
    current = doc.get("current-context", "")
    contexts = {c["name"]: c.get("context", {}) for c in doc.get("contexts") or []}
    ctx = contexts.get(current) or (next(iter(contexts.values())) if contexts else {})
    clusters = {c["name"]: c.get("cluster", {}) for c in doc.get("clusters") or []}
    users = {u["name"]: u.get("user", {}) or {} for u in doc.get("users") or []}
    cluster = clusters.get(ctx.get("cluster", ""), {}) or (
        next(iter(clusters.values())) if clusters else {}
    )
    user_name = ctx.get("user", "")
    user = users.get(user_name, {})
    ca = cluster.get("certificate-authority-data", "")
    ca_pem = base64.b64decode(ca) if ca else _read(cluster.get("certificate-authority"))
    cert_pem = base64.b64decode(user.get("client-certificate-data", "") or "")
    key_pem = base64.b64decode(user.get("client-key-data", "") or "")
    cert_pem = cert_pem or _read(user.get("client-certificate"))
    key_pem = key_pem or _read(user.get("client-key"))
    return Kubeconfig(
        server=str(cluster.get("server", "")),
        ca_pem=ca_pem,
        user=user_name,
        cert_pem=cert_pem,
        key_pem=key_pem,
        token=str(user.get("token", "") or ""),
        cluster_name=str(ctx.get("cluster", "kubernetes")),
    )


def _read(path: object) -> bytes:
    if not path:
        return b""
    try:
        return Path(str(path)).read_bytes()
    except OSError:
        return b""


def load(path: Path) -> Kubeconfig:
    return parse(path.read_text())
