"""Who a cluster is: its name and a uid sealer generated when it created it.

sealer records the identity on every host it installs (``/var/lib/sealer/cluster.json``) and
in the cluster itself (ConfigMap ``kube-system/sealer-cluster``), so that a run for one cluster
never takes over, or cleans, a host of another one.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from dataclasses import dataclass

from sealer.connect import Result
from sealer.facts.base import Fact, UnexpectedExit
from sealer.layout import ADMIN_CONF, CLUSTER_IDENTITY

__all__ = [
    "CONFIGMAP_NAME",
    "CONFIGMAP_NAMESPACE",
    "ClusterIdentity",
    "cluster_identity_configmap",
    "host_identity",
    "parse_configmap_identity",
    "parse_host_identity",
]

CONFIGMAP_NAMESPACE = "kube-system"
CONFIGMAP_NAME = "sealer-cluster"

_UID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@dataclass(frozen=True)
class ClusterIdentity:
    name: str
    uid: str
    created: str = ""  # RFC 3339, UTC

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("cluster identity without a name")
        if not _UID.match(self.uid):
            raise ValueError(f"cluster identity uid is not a UUID: {self.uid[:40]!r}")

    @classmethod
    def new(cls, name: str) -> ClusterIdentity:
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        return cls(name, str(uuid.uuid4()), now.isoformat().replace("+00:00", "Z"))

    @classmethod
    def from_mapping(cls, data: object) -> ClusterIdentity:
        if not isinstance(data, dict):
            raise ValueError("cluster identity is not a mapping")
        return cls(
            str(data.get("name", "")), str(data.get("uid", "")), str(data.get("created", ""))
        )

    def to_dict(self) -> dict[str, str]:
        return {"name": self.name, "uid": self.uid, "created": self.created}

    def to_json(self) -> bytes:
        return (json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n").encode()

    def describe(self) -> str:
        return f"{self.name!r} (uid {self.uid})"


def parse_host_identity(result: Result) -> ClusterIdentity | None:
    """``cat -- /var/lib/sealer/cluster.json`` (None when the file does not exist)::

    {"created": "2026-12-01T22:21:18Z", "name": "prod",
     "uid": "0b7c4c38-3e7a-4f55-9d8e-5b0e5b1f9a11"}
    """
    if result.exit_status != 0:
        if result.exit_status == 1 and "No such file or directory" in result.stderr:
            return None
        raise UnexpectedExit(result)
    return ClusterIdentity.from_mapping(json.loads(result.stdout))


host_identity: Fact[ClusterIdentity | None] = Fact(
    "cluster identity", ("cat", "--", CLUSTER_IDENTITY), parse_host_identity
)


def parse_configmap_identity(result: Result) -> ClusterIdentity | None:
    """``kubectl get configmap sealer-cluster -n kube-system -o json --ignore-not-found``
    (empty output when the ConfigMap does not exist)::

    {"apiVersion": "v1", "kind": "ConfigMap",
     "metadata": {"name": "sealer-cluster", "namespace": "kube-system"},
     "data": {"name": "prod", "uid": "0b7c4c38-3e7a-4f55-9d8e-5b0e5b1f9a11",
              "created": "2026-12-01T22:21:18Z"}}
    """
    if result.exit_status != 0:
        raise UnexpectedExit(result)
    if not result.stdout.strip():
        return None
    data = json.loads(result.stdout)
    if data.get("kind") != "ConfigMap":
        raise ValueError(f"expected a ConfigMap, got kind {data.get('kind')!r}")
    return ClusterIdentity.from_mapping(data.get("data") or {})


cluster_identity_configmap: Fact[ClusterIdentity | None] = Fact(
    "cluster identity ConfigMap",
    (
        "kubectl",
        "--kubeconfig",
        ADMIN_CONF,
        "--namespace",
        CONFIGMAP_NAMESPACE,
        "get",
        "configmap",
        CONFIGMAP_NAME,
        "-o",
        "json",
        "--ignore-not-found",
    ),
    parse_configmap_identity,
    timeout=60.0,
)
