"""Legacy (non-aggregated) discovery documents: /api, /api/v1, /apis, /apis/<g>, /apis/<g>/<v>.

kubectl first asks for aggregated discovery (``as=APIGroupDiscoveryList``); when the answer's
Content-Type is plain ``application/json`` it falls back to these documents, as against any
apiserver older than v1.26.
"""

from __future__ import annotations

from typing import Any

from sealer.lab.emulate.apiserver.resources import RESOURCES, VERBS, Resource, group_versions

__all__ = ["api_group", "api_group_list", "api_resource_list", "api_versions"]

_SUBRESOURCE_INFO: dict[str, tuple[str, str, str, tuple[str, ...]]] = {
    # subresource -> (group, version, kind, verbs); empty group/version: the parent's
    "status": ("", "", "", ("get", "patch", "update")),
    "eviction": ("policy", "v1", "Eviction", ("create",)),
    "log": ("", "", "", ("get",)),
    "proxy": ("", "", "NodeProxyOptions", ("create", "delete", "get", "patch", "update")),
    "finalize": ("", "", "", ("update",)),
    "approval": ("", "", "", ("get", "patch", "update")),
}


def _entries(res: Resource) -> list[dict[str, Any]]:
    main: dict[str, Any] = {
        "name": res.plural,
        "singularName": res.singular,
        "namespaced": res.namespaced,
        "kind": res.kind,
        "verbs": list(res.verbs or VERBS),
    }
    if res.short_names:
        main["shortNames"] = list(res.short_names)
    if res.categories:
        main["categories"] = list(res.categories)
    out = [main]
    for sub in res.subresources:
        group, version, kind, verbs = _SUBRESOURCE_INFO[sub]
        entry: dict[str, Any] = {
            "name": f"{res.plural}/{sub}",
            "singularName": "",
            "namespaced": res.namespaced,
            "kind": kind or res.kind,
            "verbs": list(verbs),
        }
        if group:
            entry["group"] = group
            entry["version"] = version
        out.append(entry)
    return out


def api_versions(server_address: str) -> dict[str, Any]:
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [
            {"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}
        ],
    }


def api_resource_list(group: str, version: str) -> dict[str, Any] | None:
    members = [r for r in RESOURCES if r.group == group and r.version == version]
    if not members:
        return None
    resources: list[dict[str, Any]] = []
    for res in members:
        resources += _entries(res)
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": f"{group}/{version}" if group else version,
        "resources": resources,
    }


def api_group(group: str) -> dict[str, Any] | None:
    versions = [v for g, v in group_versions() if g == group]
    if not group or not versions:
        return None
    entries = [{"groupVersion": f"{group}/{v}", "version": v} for v in versions]
    return {
        "kind": "APIGroup",
        "apiVersion": "v1",
        "name": group,
        "versions": entries,
        "preferredVersion": entries[0],
    }


def api_group_list() -> dict[str, Any]:
    groups: list[dict[str, Any]] = []
    for group, _ in group_versions():
        if not group or any(g["name"] == group for g in groups):
            continue
        doc = api_group(group)
        assert doc is not None
        groups.append({k: v for k, v in doc.items() if k not in {"kind", "apiVersion"}})
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}
