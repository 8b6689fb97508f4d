"""Load a Clusterfile with every check sealer has, including the kubeadm patches.

``sealer.spec`` knows the Clusterfile alone; the patches in ``spec.kubeadm`` are checked
against kubeadm's API types, which live in ``sealer.kube``. Commands load through here so
that a bad patch is reported with its file:line:column before any host is touched.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from sealer.kube.kubeadm_config import patch_problems
from sealer.spec import LoadedClusterfile, load_clusterfile
from sealer.spec.model import Cluster

__all__ = ["load"]


def _kubeadm_patches(cluster: Cluster) -> Iterable[tuple[str, str]]:
    for problem in patch_problems(cluster):
        path, _, message = problem.partition(": ")
        yield path, message


def load(path: str | Path) -> LoadedClusterfile:
    return load_clusterfile(path, extra_checks=(_kubeadm_patches,))
