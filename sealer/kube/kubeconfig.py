"""Kubeconfig files with embedded certificates, as ``kubeadm`` writes them.

The layout follows client-go's ``clientcmd.Write`` of ``CreateWithCerts``: one cluster named
after the cluster, one user named after the client, one context ``<user>@<cluster>``.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from sealer.errors import KubeError
from sealer.kube.yamlout import dump_yaml

__all__ = ["KubeconfigInfo", "build_kubeconfig", "parse_kubeconfig"]


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def build_kubeconfig(
    *,
    cluster_name: str,
    server: str,
    ca_cert_pem: bytes,
    user: str,
    client_cert_pem: bytes,
    client_key_pem: bytes,
) -> bytes:
    """A kubeconfig that authenticates ``user`` with a client certificate."""
    context = f"{user}@{cluster_name}"
    doc: dict[str, Any] = {
        "apiVersion": "v1",
        "clusters": [
            {
                "cluster": {
                    "certificate-authority-data": _b64(ca_cert_pem),
                    "server": server,
                },
                "name": cluster_name,
            }
        ],
        "contexts": [{"context": {"cluster": cluster_name, "user": user}, "name": context}],
        "current-context": context,
        "kind": "Config",
        "preferences": {},
        "users": [
            {
                "name": user,
                "user": {
                    "client-certificate-data": _b64(client_cert_pem),
                    "client-key-data": _b64(client_key_pem),
                },
            }
        ],
    }
    return dump_yaml([doc], explicit_start=False).encode("utf-8")


@dataclass(frozen=True)
class KubeconfigInfo:
    """What the current context of a kubeconfig says (the key is kept out of ``repr``)."""

    cluster_name: str
    server: str
    user: str
    ca_cert_pem: bytes | None
    client_cert_pem: bytes | None
    client_cert_path: str | None
    client_key_pem: bytes | None = field(default=None, repr=False)


def _named(items: Any, name: str, what: str, where: str) -> dict[str, Any]:
    if isinstance(items, list):
        for item in items:
            if isinstance(item, dict) and item.get("name") == name:
                inner = item.get(what)
                return inner if isinstance(inner, dict) else {}
    raise KubeError(f"{where}: no {what} named '{name}' in the kubeconfig")


def _decoded(value: Any, where: str, key: str) -> bytes | None:
    if value is None:
        return None
    try:
        return base64.b64decode(str(value), validate=True)
    except ValueError:
        raise KubeError(f"{where}: {key} is not valid base64") from None


def parse_kubeconfig(data: bytes, where: str = "kubeconfig") -> KubeconfigInfo:
    """Read the current context of a kubeconfig; ``where`` names the file in errors."""
    try:
        doc = YAML(typ="safe", pure=True).load(data.decode("utf-8"))
    except (YAMLError, UnicodeDecodeError) as exc:
        raise KubeError(f"{where}: not a YAML kubeconfig ({type(exc).__name__})") from None
    if not isinstance(doc, dict) or doc.get("kind") != "Config":
        raise KubeError(f"{where}: not a kubeconfig (kind is not Config)")
    current = doc.get("current-context")
    if not isinstance(current, str):
        raise KubeError(f"{where}: the kubeconfig has no current-context")
    context = _named(doc.get("contexts"), current, "context", where)
    cluster_name = str(context.get("cluster", ""))
    user_name = str(context.get("user", ""))
    cluster = _named(doc.get("clusters"), cluster_name, "cluster", where)
    user = _named(doc.get("users"), user_name, "user", where)
    cert_path = user.get("client-certificate")
    return KubeconfigInfo(
        cluster_name=cluster_name,
        server=str(cluster.get("server", "")),
        user=user_name,
        ca_cert_pem=_decoded(
            cluster.get("certificate-authority-data"), where, "certificate-authority-data"
        ),
        client_cert_pem=_decoded(
            user.get("client-certificate-data"), where, "client-certificate-data"
        ),
        client_cert_path=str(cert_path) if cert_path is not None else None,
        client_key_pem=_decoded(user.get("client-key-data"), where, "client-key-data"),
    )
