"""Facts about the Kubernetes pieces on one host: binary versions and kubeadm's files."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from sealer.connect import Result
from sealer.facts.base import Fact, UnexpectedExit, command_missing, require_ok
from sealer.layout import (
    ADMIN_CONF,
    APISERVER_MANIFEST,
    CLUSTER_IDENTITY,
    ETCD_DATA,
    ETCD_MANIFEST,
    INIT_MARKER,
    KUBELET_CONF,
    KUBELET_CONFIG,
)

__all__ = [
    "CLUSTER_STATE_FILES",
    "KUBE_FILES",
    "KubeState",
    "kube_state",
    "kubeadm_version",
    "kubectl_version",
    "kubelet_version",
    "parse_kube_state",
    "parse_kubeadm_version",
    "parse_kubectl_version",
    "parse_kubelet_version",
    "version_tuple",
]

KUBE_FILES = (
    KUBELET_CONF,
    KUBELET_CONFIG,
    APISERVER_MANIFEST,
    ADMIN_CONF,
    ETCD_MANIFEST,
    ETCD_DATA,
    CLUSTER_IDENTITY,
    INIT_MARKER,
)
#: Any of these on a master means a cluster lives (or lived) there, whether or not its API
#: answers right now: sealer never initialises a new cluster over them.
CLUSTER_STATE_FILES = (APISERVER_MANIFEST, ETCD_MANIFEST, ETCD_DATA, ADMIN_CONF, CLUSTER_IDENTITY)

_VERSION = re.compile(r"^v\d+\.\d+\.\d+\S*$")


def _version(text: str) -> str:
    if not _VERSION.match(text):
        raise ValueError(f"not a Kubernetes version: {text[:80]!r}")
    return text


def version_tuple(version: str) -> tuple[int, int, int]:
    """``"v1.29.3"`` (or ``"v1.32.4-dispatcher"``) -> ``(1, 29, 3)``."""
    match = re.match(r"^v?(\d+)\.(\d+)\.(\d+)", version)
    if match is None:
        raise ValueError(f"not a version: {version!r}")
    major, minor, patch = match.groups()
    return int(major), int(minor), int(patch)


def parse_kubeadm_version(result: Result) -> str | None:
    """``kubeadm version -o short`` (None when kubeadm is not installed)::

    v1.29.3
    """
    if command_missing(result):
        return None
    return _version(require_ok(result).strip())


def parse_kubelet_version(result: Result) -> str | None:
    """``kubelet --version`` (None when kubelet is not installed)::

    Kubernetes v1.29.3
    """
    if command_missing(result):
        return None
    text = require_ok(result).strip()
    prefix = "Kubernetes "
    if not text.startswith(prefix):
        raise ValueError(f"unexpected kubelet --version output: {text[:80]!r}")
    return _version(text[len(prefix) :])


def parse_kubectl_version(result: Result) -> str | None:
    """``kubectl version --client -o json`` (None when kubectl is not installed)::

    {
      "clientVersion": {"major": "1", "minor": "32", "gitVersion": "v1.32.4", ...},
      "kustomizeVersion": "v5.5.0"
    }
    """
    if command_missing(result):
        return None
    data = json.loads(require_ok(result))
    return _version(str(data["clientVersion"]["gitVersion"]))


kubeadm_version: Fact[str | None] = Fact(
    "kubeadm version", ("kubeadm", "version", "-o", "short"), parse_kubeadm_version
)
kubelet_version: Fact[str | None] = Fact(
    "kubelet version", ("kubelet", "--version"), parse_kubelet_version
)
kubectl_version: Fact[str | None] = Fact(
    "kubectl version", ("kubectl", "version", "--client", "-o", "json"), parse_kubectl_version
)


@dataclass(frozen=True)
class KubeState:
    """What kubeadm left on the host.

    ``role``: "control-plane" when the kube-apiserver static pod manifest exists, "worker" when
    only the kubelet's kubeconfig does, None when the host never joined.
    """

    present: frozenset[str]

    @property
    def kubelet_configured(self) -> bool:
        return KUBELET_CONF in self.present and KUBELET_CONFIG in self.present

    @property
    def role(self) -> str | None:
        if APISERVER_MANIFEST in self.present:
            return "control-plane"
        if KUBELET_CONF in self.present:
            return "worker"
        return None

    @property
    def joined(self) -> bool:
        return self.role is not None

    @property
    def cluster_state(self) -> tuple[str, ...]:
        """The files found that mean a cluster lives (or lived) on this host."""
        return tuple(p for p in CLUSTER_STATE_FILES if p in self.present)

    @property
    def etcd_data(self) -> bool:
        """This host holds etcd data (a member's data directory or its static pod)."""
        return ETCD_DATA in self.present or ETCD_MANIFEST in self.present

    @property
    def init_started(self) -> bool:
        """sealer started `kubeadm init` here and has not recorded the cluster's identity."""
        return INIT_MARKER in self.present and CLUSTER_IDENTITY not in self.present


def parse_kube_state(result: Result) -> KubeState:
    """``stat -c %n -- FILE...``: the existing files, one per line; exit status 1 and "No such
    file" messages on stderr for the missing ones::

        /etc/kubernetes/kubelet.conf
        /var/lib/kubelet/config.yaml
    """
    lines = {line for line in result.stdout.splitlines() if line}
    if result.exit_status != 0:
        errors = [line for line in result.stderr.splitlines() if line.strip()]
        if result.exit_status != 1 or not all("No such file or directory" in e for e in errors):
            raise UnexpectedExit(result)
    unknown = lines - set(KUBE_FILES)
    if unknown:
        raise ValueError(f"unexpected stat output: {sorted(unknown)}")
    return KubeState(frozenset(lines))


kube_state: Fact[KubeState] = Fact(
    "kubeadm files", ("stat", "-c", "%n", "--", *KUBE_FILES), parse_kube_state
)
