"""The network add-on and the images a cluster needs, decided from the Clusterfile and the
package (pure: no I/O).

* :func:`render_manifest`: the add-on's manifest with ``@POD_CIDR@`` replaced by
  ``spec.network.podCIDR`` (the package's calico and flannel manifests carry the placeholder
  where the add-on takes its pod network: ``CALICO_IPV4POOL_CIDR``, flannel's ``Network``);
* :func:`manifest_images`: every image a manifest's pod templates name (containers and init
  containers of Pods, DaemonSets, Deployments, StatefulSets, ReplicaSets, Jobs, CronJobs);
* :func:`kubeadm_images`: what ``kubeadm config images list`` reports for a version
  (kubeadm's own constants per minor: etcd, CoreDNS and pause tags).
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

__all__ = [
    "KUBEADM_IMAGE_TAGS",
    "POD_CIDR_TOKEN",
    "DesiredAddon",
    "ManifestError",
    "kubeadm_images",
    "manifest_images",
    "render_manifest",
]

POD_CIDR_TOKEN = "@POD_CIDR@"

#: minor -> (etcd, CoreDNS, pause) tags, as kubeadm's constants pin them (``kubeadm config
#: images list`` of each version).
KUBEADM_IMAGE_TAGS: dict[int, tuple[str, str, str]] = {
    23: ("3.5.6-0", "v1.8.6", "3.6"),
    24: ("3.5.6-0", "v1.8.6", "3.7"),
    25: ("3.5.6-0", "v1.9.3", "3.8"),
    26: ("3.5.6-0", "v1.9.3", "3.9"),
    27: ("3.5.7-0", "v1.10.1", "3.9"),
    28: ("3.5.9-0", "v1.10.1", "3.9"),
    29: ("3.5.12-0", "v1.11.1", "3.9"),
    30: ("3.5.12-0", "v1.11.1", "3.9"),
    31: ("3.5.15-0", "v1.11.3", "3.10"),
    32: ("3.5.16-0", "v1.11.3", "3.10"),
    33: ("3.5.21-0", "v1.12.0", "3.10"),
}


class ManifestError(ValueError):
    """The add-on's manifest is not YAML Kubernetes objects."""


@dataclass(frozen=True)
class DesiredAddon:
    """The network add-on the Clusterfile asks for, rendered from the package."""

    type: str  # calico, flannel, or "manifest PATH"
    manifest: str  # path inside the package (relative to kube/)
    text: str  # rendered
    images: tuple[str, ...]

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()


def render_manifest(text: str, pod_cidr: str) -> str:
    return text.replace(POD_CIDR_TOKEN, pod_cidr)


def _documents(text: str) -> list[Any]:
    try:
        return [d for d in YAML(typ="safe").load_all(io.StringIO(text)) if d is not None]
    except YAMLError as exc:
        raise ManifestError(str(exc).splitlines()[0] if str(exc) else "not YAML") from None


def _pod_specs(doc: Any) -> Iterator[dict[str, Any]]:
    if not isinstance(doc, dict):
        return
    kind = doc.get("kind")
    raw = doc.get("spec")
    spec: dict[str, Any] = raw if isinstance(raw, dict) else {}
    if kind == "List":
        for item in doc.get("items") or []:
            yield from _pod_specs(item)
    elif kind == "Pod":
        yield spec
    elif kind == "CronJob":
        job = (spec.get("jobTemplate") or {}).get("spec") or {}
        yield (job.get("template") or {}).get("spec") or {}
    else:
        template = spec.get("template")
        if isinstance(template, dict) and isinstance(template.get("spec"), dict):
            yield template["spec"]


def manifest_images(text: str) -> tuple[str, ...]:
    """The images the manifest's pods run, in order, once each."""
    found: dict[str, None] = {}
    for doc in _documents(text):
        for spec in _pod_specs(doc):
            for key in ("initContainers", "containers"):
                for container in spec.get(key) or []:
                    if isinstance(container, dict) and isinstance(container.get("image"), str):
                        found[container["image"]] = None
    return tuple(found)


def kubeadm_images(version: str, repository: str = "registry.k8s.io") -> tuple[str, ...] | None:
    """``kubeadm config images list`` for ``version`` (vMAJOR.MINOR.PATCH), None for a minor
    whose etcd/CoreDNS/pause tags sealer does not know."""
    try:
        minor = int(version.lstrip("v").split(".")[1])
    except (IndexError, ValueError):
        return None
    tags = KUBEADM_IMAGE_TAGS.get(minor)
    if tags is None:
        return None
    etcd, coredns, pause = tags
    # kubeadm: coredns/coredns under the default registry, plain coredns under another one
    dns = "coredns/coredns" if repository == "registry.k8s.io" else "coredns"
    return (
        f"{repository}/kube-apiserver:{version}",
        f"{repository}/kube-controller-manager:{version}",
        f"{repository}/kube-scheduler:{version}",
        f"{repository}/kube-proxy:{version}",
        f"{repository}/{dns}:{coredns}",
        f"{repository}/pause:{pause}",
        f"{repository}/etcd:{etcd}",
    )
