"""The DaemonSet controller in miniature: one Pod per eligible Node, bound to it.

As the real controller (pkg/controller/daemon), a Node is eligible when the pod template's
``nodeSelector`` matches its labels and every ``NoSchedule``/``NoExecute`` taint of the Node
(as the node-lifecycle controller shows it, :mod:`lifecycle`) is tolerated by the template's
tolerations plus the ones the controller adds to every daemon pod (not-ready and unreachable
``NoExecute``, the pressure and unschedulable ``NoSchedule`` taints, network-unavailable for
host-network pods). So an add-on that does not tolerate ``node.kubernetes.io/not-ready:
NoSchedule`` never reaches a Node that waits for a network, as on a real cluster.

Pods are named ``<daemonset>-<hash of node and template>`` and labelled with
``controller-revision-hash``: every apiserver runs this loop, and a create of the same name
only conflicts. A Pod whose template hash is outdated is deleted and made again (the rolling
update without the pacing), a Pod on a Node that left or is no longer eligible is deleted.
Status counts (desired, current, ready, updated, available) are written back on the DaemonSet.
Gaps: no maxUnavailable pacing, no OnDelete strategy, no ControllerRevisions, no affinity.
"""

from __future__ import annotations

import contextlib
import copy
import datetime
import hashlib
import json
from typing import Any

from sealer_lab.emulate.apiserver.lifecycle import apply_node_lifecycle
from sealer_lab.emulate.apiserver.resources import Resource, find_resource
from sealer_lab.emulate.apiserver.status import ApiError
from sealer_lab.emulate.apiserver.store import Store

__all__ = ["daemon_tolerations", "sync_daemonsets", "tolerates"]

Obj = dict[str, Any]


def _res(group: str, plural: str) -> Resource:
    res = find_resource(group, "v1", plural)
    assert res is not None
    return res


def daemon_tolerations(host_network: bool) -> list[Obj]:
    """What the DaemonSet controller adds to every daemon pod
    (``util.AddOrUpdateDaemonPodTolerations``)."""
    added: list[Obj] = [
        {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute"},
        {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute"},
        {"key": "node.kubernetes.io/disk-pressure", "operator": "Exists", "effect": "NoSchedule"},
        {"key": "node.kubernetes.io/memory-pressure", "operator": "Exists", "effect": "NoSchedule"},
        {"key": "node.kubernetes.io/pid-pressure", "operator": "Exists", "effect": "NoSchedule"},
        {"key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoSchedule"},
    ]
    if host_network:
        added.append(
            {
                "key": "node.kubernetes.io/network-unavailable",
                "operator": "Exists",
                "effect": "NoSchedule",
            }
        )
    return added


def _tolerates_one(toleration: Obj, taint: Obj) -> bool:
    effect = toleration.get("effect") or ""
    if effect and effect != taint.get("effect"):
        return False
    key = toleration.get("key") or ""
    operator = toleration.get("operator") or "Equal"
    if operator == "Exists":
        return not key or key == taint.get("key")
    return key == taint.get("key") and (toleration.get("value") or "") == (taint.get("value") or "")


def tolerates(tolerations: list[Obj], taints: list[Obj]) -> bool:
    """Every NoSchedule/NoExecute taint is tolerated (PreferNoSchedule never blocks)."""
    return all(
        any(_tolerates_one(t, taint) for t in tolerations)
        for taint in taints
        if taint.get("effect") in ("NoSchedule", "NoExecute")
    )


def _template_hash(template: Obj) -> str:
    return hashlib.sha256(json.dumps(template, sort_keys=True).encode()).hexdigest()[:10]


def _eligible(node: Obj, spec: Obj, tolerations: list[Obj]) -> bool:
    labels = node.get("metadata", {}).get("labels") or {}
    selector = spec.get("nodeSelector") or {}
    if any(labels.get(k) != v for k, v in selector.items()):
        return False
    return tolerates(tolerations, (node.get("spec") or {}).get("taints") or [])


def _pod_ready(pod: Obj) -> bool:
    conditions = (pod.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def sync_daemonsets(store: Store, now: datetime.datetime | None = None) -> None:
    now = now or datetime.datetime.now(datetime.UTC)
    ds_res, pods_res, nodes_res = _res("apps", "daemonsets"), _res("", "pods"), _res("", "nodes")
    daemonsets, _ = store.list(ds_res, None)
    if not daemonsets:
        return
    leases, _ = store.list(_res("coordination.k8s.io", "leases"), "kube-node-lease")
    by_name = {lease["metadata"]["name"]: lease for lease in leases}
    raw_nodes, _ = store.list(nodes_res, None)
    nodes = [apply_node_lifecycle(n, by_name.get(n["metadata"]["name"]), now) for n in raw_nodes]
    pods, _ = store.list(pods_res, None)
    for ds in daemonsets:
        _sync_one(store, ds, nodes, pods, ds_res, pods_res)


def _sync_one(
    store: Store, ds: Obj, nodes: list[Obj], pods: list[Obj], ds_res: Resource, pods_res: Resource
) -> None:
    meta = ds["metadata"]
    namespace, name, uid = meta.get("namespace", ""), meta["name"], meta.get("uid", "")
    template = (ds.get("spec") or {}).get("template") or {}
    pod_spec = copy.deepcopy(template.get("spec") or {})
    revision = _template_hash(template)
    tolerations = [
        *(pod_spec.get("tolerations") or []),
        *daemon_tolerations(bool(pod_spec.get("hostNetwork"))),
    ]
    pod_spec["tolerations"] = tolerations
    owned = [
        p
        for p in pods
        if any(o.get("uid") == uid for o in p["metadata"].get("ownerReferences") or [])
    ]
    wanted = {n["metadata"]["name"] for n in nodes if _eligible(n, pod_spec, tolerations)}
    current: dict[str, Obj] = {}
    for pod in owned:
        node = (pod.get("spec") or {}).get("nodeName", "")
        labels = pod["metadata"].get("labels") or {}
        if node not in wanted or labels.get("controller-revision-hash") != revision:
            with contextlib.suppress(ApiError):
                store.delete(pods_res, namespace, pod["metadata"]["name"])
            continue
        current[node] = pod
    for node in sorted(wanted - set(current)):
        suffix = hashlib.sha256(f"{node}/{revision}".encode()).hexdigest()[:5]
        labels = {
            **((template.get("metadata") or {}).get("labels") or {}),
            "controller-revision-hash": revision,
            "pod-template-generation": str(meta.get("generation", 1)),
        }
        pod = {
            "metadata": {
                "name": f"{name}-{suffix}",
                "labels": labels,
                "annotations": dict((template.get("metadata") or {}).get("annotations") or {}),
                "ownerReferences": [
                    {
                        "apiVersion": "apps/v1",
                        "kind": "DaemonSet",
                        "name": name,
                        "uid": uid,
                        "controller": True,
                        "blockOwnerDeletion": True,
                    }
                ],
            },
            "spec": {**pod_spec, "nodeName": node},
        }
        try:
            current[node] = store.create(pods_res, namespace, pod)
        except ApiError as exc:
            if exc.code != 409:
                raise
    ready = sum(1 for p in current.values() if _pod_ready(p))
    status = {
        "currentNumberScheduled": len(current),
        "desiredNumberScheduled": len(wanted),
        "numberMisscheduled": 0,
        "numberReady": ready,
        "numberAvailable": ready,
        "updatedNumberScheduled": len(current),
        "observedGeneration": meta.get("generation", 1),
    }
    if ready < len(wanted):
        status["numberUnavailable"] = len(wanted) - ready
    if ds.get("status") != status:
        ds["status"] = status
        try:
            store.update(ds_res, namespace, name, ds, "status")
        except ApiError as exc:
            if exc.code not in (404, 409):
                raise
