"""The network add-on sealer applied to a cluster, as the cluster records it.

Decision: the record is the ConfigMap ``kube-system/sealer-cni`` (``type``: calico, flannel
or ``manifest PATH``; ``sha256`` of the rendered manifest that was applied; ``manifest``: its
path in the package), written by the ``cni`` step after ``kubectl apply`` succeeded. One
object read with the other cluster facts, rather than an annotation on each applied object:
an add-on is dozens of objects of many kinds, and a partial apply must not look done.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sealer.connect import Result
from sealer.facts.base import Fact, UnexpectedExit
from sealer.layout import ADMIN_CONF

__all__ = [
    "ADDON_CONFIGMAP",
    "ADDON_NAMESPACE",
    "AppliedAddon",
    "applied_addon",
    "parse_applied_addon",
]

ADDON_NAMESPACE = "kube-system"
ADDON_CONFIGMAP = "sealer-cni"


@dataclass(frozen=True)
class AppliedAddon:
    type: str
    sha256: str
    manifest: str = ""

    def to_data(self) -> dict[str, str]:
        return {"type": self.type, "sha256": self.sha256, "manifest": self.manifest}


def parse_applied_addon(result: Result) -> AppliedAddon | None:
    """``kubectl get configmap sealer-cni -n kube-system -o json --ignore-not-found``
    (empty output when the ConfigMap does not exist)::

    {"apiVersion": "v1", "kind": "ConfigMap",
     "metadata": {"name": "sealer-cni", "namespace": "kube-system"},
     "data": {"type": "calico", "manifest": "manifests/calico.yaml",
              "sha256": "9f2c...e01a"}}
    """
    if result.exit_status != 0:
        raise UnexpectedExit(result)
    if not result.stdout.strip():
        return None
    data = json.loads(result.stdout)
    if data.get("kind") != "ConfigMap":
        raise ValueError(f"expected a ConfigMap, got kind {data.get('kind')!r}")
    fields = data.get("data") or {}
    kind, digest = str(fields.get("type", "")), str(fields.get("sha256", ""))
    if not kind or not digest:
        raise ValueError(f"ConfigMap {ADDON_NAMESPACE}/{ADDON_CONFIGMAP} lacks type or sha256")
    return AppliedAddon(kind, digest, str(fields.get("manifest", "")))


applied_addon: Fact[AppliedAddon | None] = Fact(
    "network add-on record",
    (
        "kubectl",
        "--kubeconfig",
        ADMIN_CONF,
        "--namespace",
        ADDON_NAMESPACE,
        "get",
        "configmap",
        ADDON_CONFIGMAP,
        "-o",
        "json",
        "--ignore-not-found",
    ),
    parse_applied_addon,
    timeout=60.0,
)
