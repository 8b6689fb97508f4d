"""What an upgrade reads on a host: the version its API server's static pod runs (pure parser).

The kubelet's version per Node comes from :mod:`sealer.facts.cluster` (``kubeletVersion``);
kubeadm's on disk from :mod:`sealer.facts.kube`. The API server's is the image tag in the
host's ``kube-apiserver`` static pod manifest, which ``kubeadm upgrade apply|node`` rewrites.
"""

from __future__ import annotations

import re

__all__ = ["parse_manifest_version"]

_IMAGE = re.compile(r"^\s*-?\s*image:\s*['\"]?\S*/kube-apiserver:(v\d+\.\d+\.\d+)['\"]?\s*$", re.M)


def parse_manifest_version(text: str | None) -> str | None:
    """The kube-apiserver image tag of a static pod manifest (None: no manifest, no image)::

    spec:
      containers:
      - command: [kube-apiserver, ...]
        image: registry.k8s.io/kube-apiserver:v1.29.3
    """
    if not text:
        return None
    match = _IMAGE.search(text)
    return match.group(1) if match else None
