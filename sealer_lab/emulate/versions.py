"""Kubernetes versions the emulation knows, and the images kubeadm uses for each minor."""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["MINORS", "Version", "images", "parse_version"]

# minor -> (etcd tag, coredns tag, pause tag), as kubeadm's constants pin them.
MINORS: dict[int, tuple[str, str, str]] = {
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

_RE = re.compile(r"v?(\d+)\.(\d+)\.(\d+)")


@dataclass(frozen=True, order=True)
class Version:
    major: int
    minor: int
    patch: int

    def __str__(self) -> str:
        return f"v{self.major}.{self.minor}.{self.patch}"


def parse_version(text: str) -> Version | None:
    m = _RE.fullmatch(text.strip())
    if not m:
        return None
    return Version(int(m.group(1)), int(m.group(2)), int(m.group(3)))


def images(version: Version, repo: str = "registry.k8s.io") -> list[str]:
    etcd, coredns, pause = MINORS[version.minor]
    # kubeadm: coredns/coredns under the default registry, plain coredns under another one
    dns = "coredns/coredns" if repo == "registry.k8s.io" else "coredns"
    return [
        f"{repo}/kube-apiserver:{version}",
        f"{repo}/kube-controller-manager:{version}",
        f"{repo}/kube-scheduler:{version}",
        f"{repo}/kube-proxy:{version}",
        f"{repo}/{dns}:{coredns}",
        f"{repo}/pause:{pause}",
        f"{repo}/etcd:{etcd}",
    ]
