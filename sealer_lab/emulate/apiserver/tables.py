"""meta.k8s.io/v1 Table answers, with the columns the real printers give ``kubectl get``."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

from sealer_lab.emulate.apiserver.lifecycle import parse_time
from sealer_lab.emulate.apiserver.resources import Resource

__all__ = ["human_duration", "to_table"]

Obj = dict[str, Any]
Column = tuple[str, str, str, int]  # name, type, description, priority


def human_duration(seconds: float) -> str:
    """k8s.io/apimachinery/pkg/util/duration.HumanDuration."""
    if seconds < -1:
        return "<invalid>"
    if seconds < 0:
        return "0s"
    s = int(seconds)
    if s < 120:
        return f"{s}s"
    minutes = s // 60
    if minutes < 10:
        rest = s % 60
        return f"{minutes}m{rest}s" if rest else f"{minutes}m"
    if minutes < 180:
        return f"{minutes}m"
    hours = s // 3600
    if hours < 8:
        rest = (s % 3600) // 60
        return f"{hours}h{rest}m" if rest else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    if hours < 192:
        rest = hours % 24
        return f"{hours // 24}d{rest}h" if rest else f"{hours // 24}d"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        days = (hours // 24) % 365
        return f"{hours // 24 // 365}y{days}d" if days else f"{hours // 24 // 365}y"
    return f"{hours // 24 // 365}y"


def _age(obj: Obj, now: datetime.datetime) -> str:
    created = parse_time(obj.get("metadata", {}).get("creationTimestamp"))
    return "<unknown>" if created is None else human_duration((now - created).total_seconds())


def _node_cells(obj: Obj, now: datetime.datetime) -> list[Any]:
    conditions = obj.get("status", {}).get("conditions") or []
    ready = next((c for c in conditions if c.get("type") == "Ready"), None)
    if ready is None:
        status = ["Unknown"]
    else:
        status = ["Ready" if ready.get("status") == "True" else "NotReady"]
    if obj.get("spec", {}).get("unschedulable"):
        status.append("SchedulingDisabled")
    labels = obj.get("metadata", {}).get("labels") or {}
    roles = sorted(
        {
            key.removeprefix("node-role.kubernetes.io/")
            for key in labels
            if key.startswith("node-role.kubernetes.io/") and key != "node-role.kubernetes.io/"
        }
        | ({labels["kubernetes.io/role"]} if labels.get("kubernetes.io/role") else set())
    )
    info = obj.get("status", {}).get("nodeInfo") or {}
    addresses = obj.get("status", {}).get("addresses") or []

    def address(kind: str) -> str:
        return next((a.get("address", "") for a in addresses if a.get("type") == kind), "<none>")

    return [
        obj["metadata"]["name"],
        ",".join(status),
        ",".join(roles) or "<none>",
        _age(obj, now),
        info.get("kubeletVersion", ""),
        address("InternalIP"),
        address("ExternalIP"),
        info.get("osImage", "<unknown>") or "<unknown>",
        info.get("kernelVersion", "<unknown>") or "<unknown>",
        info.get("containerRuntimeVersion", "<unknown>") or "<unknown>",
    ]


def _pod_cells(obj: Obj, now: datetime.datetime) -> list[Any]:
    spec = obj.get("spec", {})
    status = obj.get("status", {})
    statuses = status.get("containerStatuses") or []
    total = len(spec.get("containers") or [])
    ready = sum(1 for s in statuses if s.get("ready"))
    restarts = sum(int(s.get("restartCount", 0)) for s in statuses)
    reason = status.get("reason") or status.get("phase") or "Unknown"
    for cs in statuses:
        waiting = (cs.get("state") or {}).get("waiting")
        if waiting and waiting.get("reason"):
            reason = waiting["reason"]
    if obj.get("metadata", {}).get("deletionTimestamp"):
        reason = "Terminating"
    ips = status.get("podIPs") or ([{"ip": status["podIP"]}] if status.get("podIP") else [])
    return [
        obj["metadata"]["name"],
        f"{ready}/{total}",
        reason,
        str(restarts),
        _age(obj, now),
        ips[0]["ip"] if ips else "<none>",
        spec.get("nodeName") or "<none>",
        "<none>",
        "<none>",
    ]


def _endpoints_cells(obj: Obj, now: datetime.datetime) -> list[Any]:
    pairs = [
        f"{a.get('ip')}:{p.get('port')}"
        for subset in obj.get("subsets") or []
        for p in subset.get("ports") or [{}]
        for a in subset.get("addresses") or []
    ]
    shown = ",".join(pairs[:3]) + (f" + {len(pairs) - 3} more..." if len(pairs) > 3 else "")
    return [obj["metadata"]["name"], shown or "<none>", _age(obj, now)]


def _service_cells(obj: Obj, now: datetime.datetime) -> list[Any]:
    spec = obj.get("spec", {})
    ports = ",".join(f"{p.get('port')}/{p.get('protocol', 'TCP')}" for p in spec.get("ports") or [])
    return [
        obj["metadata"]["name"],
        spec.get("type", "ClusterIP"),
        spec.get("clusterIP") or "<none>",
        "<none>",
        ports or "<none>",
        _age(obj, now),
    ]


def _generic_cells(obj: Obj, now: datetime.datetime) -> list[Any]:
    return [obj["metadata"]["name"], _age(obj, now)]


_NAME: Column = ("Name", "string", "Name must be unique within a namespace.", 0)
_AGE: Column = (
    "Age",
    "string",
    "CreationTimestamp is a timestamp representing the server time.",
    0,
)

_PRINTERS: dict[str, tuple[list[Column], Callable[[Obj, datetime.datetime], list[Any]]]] = {
    "nodes": (
        [
            _NAME,
            ("Status", "string", "The status of the node", 0),
            ("Roles", "string", "The roles of the node", 0),
            _AGE,
            ("Version", "string", "Kubelet Version reported by the node.", 0),
            ("Internal-IP", "string", "List of internal IPs.", 1),
            ("External-IP", "string", "List of external IPs.", 1),
            ("OS-Image", "string", "OS image reported by the node.", 1),
            ("Kernel-Version", "string", "Kernel version reported by the node.", 1),
            ("Container-Runtime", "string", "Container runtime reported by the node.", 1),
        ],
        _node_cells,
    ),
    "pods": (
        [
            _NAME,
            (
                "Ready",
                "string",
                "The aggregate readiness state of this pod for accepting traffic.",
                0,
            ),
            ("Status", "string", "The aggregate status of the containers in this pod.", 0),
            (
                "Restarts",
                "string",
                "The number of times the containers in this pod have been restarted.",
                0,
            ),
            _AGE,
            ("IP", "string", "IP address allocated to the pod.", 1),
            ("Node", "string", "Name of the node this pod is scheduled on.", 1),
            ("Nominated Node", "string", "Name of the node where the pod is nominated.", 1),
            ("Readiness Gates", "string", "Pod readiness gates.", 1),
        ],
        _pod_cells,
    ),
    "endpoints": (
        [_NAME, ("Endpoints", "string", "Endpoints of the service", 0), _AGE],
        _endpoints_cells,
    ),
    "services": (
        [
            _NAME,
            ("Type", "string", "The type of the service", 0),
            ("Cluster-IP", "string", "The cluster IP of the service", 0),
            ("External-IP", "string", "The external IPs of the service", 0),
            ("Port(s)", "string", "The ports of the service", 0),
            _AGE,
        ],
        _service_cells,
    ),
    "namespaces": (
        [_NAME, ("Status", "string", "The status of the namespace", 0), _AGE],
        lambda o, now: [o["metadata"]["name"], o.get("status", {}).get("phase", ""), _age(o, now)],
    ),
    "configmaps": (
        [_NAME, ("Data", "integer", "Number of data entries.", 0), _AGE],
        lambda o, now: [
            o["metadata"]["name"],
            len(o.get("data") or {}) + len(o.get("binaryData") or {}),
            _age(o, now),
        ],
    ),
    "secrets": (
        [
            _NAME,
            ("Type", "string", "The type of the secret", 0),
            ("Data", "integer", "Number of data entries.", 0),
            _AGE,
        ],
        lambda o, now: [
            o["metadata"]["name"],
            o.get("type", "Opaque"),
            len(o.get("data") or {}),
            _age(o, now),
        ],
    ),
    "leases": (
        [_NAME, ("Holder", "string", "The holder of the lease.", 0), _AGE],
        lambda o, now: [
            o["metadata"]["name"],
            o.get("spec", {}).get("holderIdentity", ""),
            _age(o, now),
        ],
    ),
    "certificatesigningrequests": (
        [
            _NAME,
            _AGE,
            ("SignerName", "string", "The signer of the certificate.", 0),
            ("Requestor", "string", "Name of the user who requested the CSR.", 0),
            ("RequestedDuration", "string", "Requested duration of the certificate.", 0),
            ("Condition", "string", "The conditions of the request.", 0),
        ],
        lambda o, now: [
            o["metadata"]["name"],
            _age(o, now),
            o.get("spec", {}).get("signerName", ""),
            o.get("spec", {}).get("username", ""),
            "<none>",
            _csr_condition(o),
        ],
    ),
}


def _csr_condition(obj: Obj) -> str:
    conditions = obj.get("status", {}).get("conditions") or []
    names = [str(c.get("type")) for c in conditions]
    if obj.get("status", {}).get("certificate"):
        names.append("Issued")
    return ",".join(names) or "Pending"


def _partial(obj: Obj) -> Obj:
    return {
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": obj.get("metadata", {}),
    }


def to_table(
    res: Resource,
    items: list[Obj],
    resource_version: str,
    include_object: str,
    now: datetime.datetime,
) -> Obj:
    """A Table of ``items``; ``include_object`` is the ``includeObject`` query parameter."""
    columns, cells = _PRINTERS.get(res.plural, ([_NAME, _AGE], _generic_cells))
    rows = []
    for item in items:
        row: Obj = {"cells": cells(item, now)}
        if include_object == "Object":
            row["object"] = item
        elif include_object != "None":
            row["object"] = _partial(item)
        rows.append(row)
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": resource_version},
        "columnDefinitions": [
            {
                "name": n,
                "type": t,
                "format": "name" if n == "Name" else "",
                "description": d,
                "priority": p,
            }
            for n, t, d, p in columns
        ],
        "rows": rows,
    }
