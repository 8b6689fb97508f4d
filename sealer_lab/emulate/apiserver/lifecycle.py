"""A node-lifecycle controller in miniature, applied when Nodes are read.

The real controller marks a Node's Ready condition ``Unknown`` when neither its Lease in
kube-node-lease was renewed nor its status heartbeat posted within the node monitor grace
period (40 s in v1.29). The emulator computes the same verdict on every read instead of
writing it back, so a stopped kubelet emulator turns its Node NotReady on every apiserver.

It also taints by condition as the real controller does (TaintNodesByCondition): a Node whose
Ready condition is False (the kubelet's own verdict, e.g. no CNI network yet) carries
``node.kubernetes.io/not-ready:NoSchedule``, and loses it once Ready is True again (a copy of
the taint that a client wrote back with the Node is dropped too).
"""

from __future__ import annotations

import copy
import datetime
from typing import Any

__all__ = ["GRACE_SECONDS", "NOT_READY_TAINT", "apply_node_lifecycle", "parse_time"]

GRACE_SECONDS = 40.0
NOT_READY_TAINT = "node.kubernetes.io/not-ready"


def parse_time(text: Any) -> datetime.datetime | None:
    if not isinstance(text, str) or not text:
        return None
    try:
        when = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=datetime.UTC)


def _latest(*times: datetime.datetime | None) -> datetime.datetime | None:
    known = [t for t in times if t is not None]
    return max(known) if known else None


def apply_node_lifecycle(
    node: dict[str, Any],
    lease: dict[str, Any] | None,
    now: datetime.datetime,
) -> dict[str, Any]:
    """The Node as the real control plane would show it ``now``."""
    node = _taint_by_condition(node, now)
    conditions = node.get("status", {}).get("conditions") or []
    ready = next((c for c in conditions if c.get("type") == "Ready"), None)
    if ready is None or ready.get("status") == "Unknown":
        return node
    renew = parse_time((lease or {}).get("spec", {}).get("renewTime"))
    heartbeat = parse_time(ready.get("lastHeartbeatTime"))
    probe = _latest(renew, heartbeat)
    if probe is not None and (now - probe).total_seconds() <= GRACE_SECONDS:
        return node
    node = copy.deepcopy(node)
    stamp = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    for cond in node["status"]["conditions"]:
        if cond.get("type") in {"Ready", "MemoryPressure", "DiskPressure", "PIDPressure"}:
            cond["status"] = "Unknown"
            cond["reason"] = "NodeStatusUnknown"
            cond["message"] = "Kubelet stopped posting node status."
            cond["lastTransitionTime"] = stamp
    taints = node.setdefault("spec", {}).setdefault("taints", [])
    if not any(t.get("key") == "node.kubernetes.io/unreachable" for t in taints):
        taints.append(
            {"key": "node.kubernetes.io/unreachable", "effect": "NoSchedule", "timeAdded": stamp}
        )
    return node


def _taint_by_condition(node: dict[str, Any], now: datetime.datetime) -> dict[str, Any]:
    conditions = node.get("status", {}).get("conditions") or []
    ready = next((c for c in conditions if c.get("type") == "Ready"), None)
    if ready is None:
        return node
    taints = (node.get("spec") or {}).get("taints") or []
    has = any(t.get("key") == NOT_READY_TAINT and t.get("effect") == "NoSchedule" for t in taints)
    want = ready.get("status") == "False"
    if has == want:
        return node
    node = copy.deepcopy(node)
    spec = node.setdefault("spec", {})
    kept = [
        t
        for t in taints
        if not (t.get("key") == NOT_READY_TAINT and t.get("effect") == "NoSchedule")
    ]
    if want:
        stamp = ready.get("lastTransitionTime") or now.strftime("%Y-%m-%dT%H:%M:%SZ")
        kept.append({"key": NOT_READY_TAINT, "effect": "NoSchedule", "timeAdded": stamp})
    if kept:
        spec["taints"] = kept
    else:
        spec.pop("taints", None)
    return node
