"""Cluster facts read on a control-plane host: the nodes, and the etcd members."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sealer.connect import Result
from sealer.facts.base import Fact, UnexpectedExit, require_ok
from sealer.layout import ADMIN_CONF, ETCD_PKI_DIR

__all__ = [
    "UPGRADING_ANNOTATION",
    "EndpointHealth",
    "EtcdMember",
    "NodeInfo",
    "etcd_health",
    "etcd_members",
    "kube_nodes",
    "parse_etcd_health",
    "parse_etcd_members",
    "parse_nodes",
]

ROLE_LABEL = "node-role.kubernetes.io/"
#: Set by sealer on a Node it cordons for an upgrade (the version it is taking it to) and
#: removed when it uncordons it: a Node that still has it was left by a run that stopped.
UPGRADING_ANNOTATION = "sealer.dev/upgrading-to"


@dataclass(frozen=True)
class NodeInfo:
    """One Kubernetes node. ``ready`` is None when the Ready condition is Unknown or absent."""

    name: str
    addresses: tuple[tuple[str, str], ...]
    roles: tuple[str, ...]
    kubelet_version: str
    ready: bool | None
    unschedulable: bool
    created: str = ""  # metadata.creationTimestamp (RFC 3339, sorts as text)
    upgrading_to: str = ""  # UPGRADING_ANNOTATION: sealer cordoned it for this upgrade

    def address(self, kind: str = "InternalIP") -> str | None:
        return next((a for t, a in self.addresses if t == kind), None)


def _node(item: dict[str, Any]) -> NodeInfo:
    meta = item["metadata"]
    status = item.get("status", {})
    labels: dict[str, str] = meta.get("labels") or {}
    roles = sorted(k[len(ROLE_LABEL) :] for k in labels if k.startswith(ROLE_LABEL))
    ready: bool | None = None
    for condition in status.get("conditions") or []:
        if condition.get("type") == "Ready":
            ready = {"True": True, "False": False}.get(condition.get("status", ""))
    return NodeInfo(
        name=str(meta["name"]),
        addresses=tuple((str(a["type"]), str(a["address"])) for a in status.get("addresses") or []),
        roles=tuple(r for r in roles if r),
        kubelet_version=str(status.get("nodeInfo", {}).get("kubeletVersion", "")),
        ready=ready,
        unschedulable=bool(item.get("spec", {}).get("unschedulable", False)),
        created=str(meta.get("creationTimestamp", "")),
        upgrading_to=str((meta.get("annotations") or {}).get(UPGRADING_ANNOTATION, "")),
    )


def parse_nodes(text: str) -> list[NodeInfo]:
    """``kubectl get nodes -o json`` (a v1 List)::

    {"apiVersion": "v1", "kind": "List", "items": [
      {"metadata": {"name": "master-0",
                    "labels": {"node-role.kubernetes.io/control-plane": ""}},
       "spec": {"unschedulable": true},
       "status": {"addresses": [{"type": "InternalIP", "address": "10.0.0.10"}],
                  "conditions": [{"type": "Ready", "status": "True"}],
                  "nodeInfo": {"kubeletVersion": "v1.29.3"}}}]}
    """
    data = json.loads(text)
    if data.get("kind") not in ("List", "NodeList"):
        raise ValueError(f"expected a List of nodes, got kind {data.get('kind')!r}")
    return sorted((_node(item) for item in data.get("items") or []), key=lambda n: n.name)


kube_nodes: Fact[list[NodeInfo]] = Fact(
    "nodes",
    ("kubectl", "--kubeconfig", ADMIN_CONF, "get", "nodes", "-o", "json"),
    lambda r: parse_nodes(require_ok(r)),
    timeout=60.0,
)


@dataclass(frozen=True)
class EtcdMember:
    """One etcd member. ``id_hex`` is the ID as etcdctl prints and accepts it (``%x``)."""

    id: int
    name: str
    peer_urls: tuple[str, ...]
    client_urls: tuple[str, ...]
    is_learner: bool

    @property
    def id_hex(self) -> str:
        return format(self.id, "x")

    @property
    def started(self) -> bool:
        """A member added but not yet started has no name and no client URLs."""
        return bool(self.name) and bool(self.client_urls)


def parse_etcd_members(text: str) -> list[EtcdMember]:
    """``etcdctl member list -w json`` (IDs are uint64 beyond float precision: Python's json
    keeps them exact ints; a member added but not started has no name/clientURLs)::

        {"header": {"cluster_id": 15118495548433857066, "member_id": 13668033151171901709,
                    "raft_term": 2},
         "members": [{"ID": 13668033151171901709, "name": "m0",
                      "peerURLs": ["https://10.0.0.10:2380"],
                      "clientURLs": ["https://10.0.0.10:2379"]},
                     {"ID": 14112439690088783489, "peerURLs": ["https://10.0.0.11:2380"]}]}
    """
    data = json.loads(text)
    members = []
    for item in data["members"]:
        member_id = item["ID"]
        if not isinstance(member_id, int) or isinstance(member_id, bool):
            raise ValueError(f"etcd member ID is not an integer: {member_id!r}")
        members.append(
            EtcdMember(
                id=member_id,
                name=str(item.get("name", "")),
                peer_urls=tuple(item.get("peerURLs") or ()),
                client_urls=tuple(item.get("clientURLs") or ()),
                is_learner=bool(item.get("isLearner", False)),
            )
        )
    return members


#: etcdctl talking to the local member with the health-check client certificate.
ETCDCTL = (
    "etcdctl",
    "--endpoints",
    "https://127.0.0.1:2379",
    "--cacert",
    f"{ETCD_PKI_DIR}/ca.crt",
    "--cert",
    f"{ETCD_PKI_DIR}/healthcheck-client.crt",
    "--key",
    f"{ETCD_PKI_DIR}/healthcheck-client.key",
)

etcd_members: Fact[list[EtcdMember]] = Fact(
    "etcd members",
    (*ETCDCTL, "member", "list", "-w", "json"),
    lambda r: parse_etcd_members(require_ok(r)),
    timeout=60.0,
)


@dataclass(frozen=True)
class EndpointHealth:
    """One member's client endpoint as ``etcdctl endpoint health --cluster`` saw it."""

    endpoint: str
    healthy: bool
    error: str = ""


def parse_etcd_health(result: Result) -> list[EndpointHealth]:
    """``etcdctl endpoint health --cluster -w json``: every member's client URL, asked
    directly; exit status 1 (and "unhealthy cluster" on stderr) when one is not healthy::

        [{"endpoint": "https://10.0.0.11:2379", "health": true, "took": "10.9ms"},
         {"endpoint": "https://10.0.0.12:2379", "health": false, "took": "5.0s",
          "error": "context deadline exceeded"}]
    """
    try:
        data = json.loads(result.stdout)
    except ValueError:
        raise UnexpectedExit(result) from None
    if not isinstance(data, list) or (result.exit_status != 0 and not data):
        raise UnexpectedExit(result)
    return [
        EndpointHealth(
            str(item["endpoint"]), item.get("health") is True, str(item.get("error", ""))
        )
        for item in data
    ]


etcd_health: Fact[list[EndpointHealth]] = Fact(
    "etcd health",
    (*ETCDCTL, "endpoint", "health", "--cluster", "-w", "json"),
    parse_etcd_health,
    timeout=60.0,
)
