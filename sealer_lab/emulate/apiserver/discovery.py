"""Discovery documents: /api, /api/v1, /apis, /apis/<g>, /apis/<g>/<v>.

/api and /apis answer aggregated discovery (``apidiscovery.k8s.io`` APIGroupDiscoveryList) when
the client asks for it and the emulated version serves it (v2beta1 from v1.26, v2 from v1.30),
else the legacy APIVersions/APIGroupList documents, as the real apiserver does.
"""

from __future__ import annotations

from typing import Any

from sealer_lab.emulate.apiserver.resources import RESOURCES, VERBS, Resource, group_versions

__all__ = [
    "aggregated_discovery",
    "api_group",
    "api_group_list",
    "api_resource_list",
    "api_versions",
    "negotiate_aggregated",
]

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


def negotiate_aggregated(accept: str, minor: int) -> str:
    """The aggregated discovery version to answer (``v2``/``v2beta1``), or "" for legacy.

    Accept lists media types in the client's order of preference (kubectl 1.32: v2, then
    v2beta1, then plain JSON).
    """
    served = {"v2beta1"} if 26 <= minor < 30 else ({"v2", "v2beta1"} if minor >= 30 else set())
    for item in accept.split(","):
        params = dict(p.strip().split("=", 1) for p in item.split(";")[1:] if "=" in p)
        if params.get("as") == "APIGroupDiscoveryList":
            if params.get("g") == "apidiscovery.k8s.io" and params.get("v") in served:
                return params["v"]
            continue
        if item.split(";")[0].strip() in {"application/json", "*/*", "application/*"}:
            return ""
    return ""


def _aggregated_resource(res: Resource) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "resource": res.plural,
        "responseKind": {"group": res.group, "version": res.version, "kind": res.kind},
        "scope": "Namespaced" if res.namespaced else "Cluster",
        "singularResource": res.singular,
        "verbs": list(res.verbs or VERBS),
    }
    if res.short_names:
        entry["shortNames"] = list(res.short_names)
    if res.categories:
        entry["categories"] = list(res.categories)
    subs = []
    for sub in res.subresources:
        group, version, kind, verbs = _SUBRESOURCE_INFO[sub]
        subs.append(
            {
                "subresource": sub,
                "responseKind": {
                    "group": group if kind else res.group,
                    "version": version or res.version,
                    "kind": kind or res.kind,
                },
                "verbs": list(verbs),
            }
        )
    if subs:
        entry["subresources"] = subs
    return entry


def aggregated_discovery(core: bool, version: str) -> dict[str, Any]:
    """APIGroupDiscoveryList for /api (``core``) or /apis, in apidiscovery ``version``."""
    items: list[dict[str, Any]] = []
    for group, gv in group_versions():
        if bool(group) == core:
            continue
        resources = [
            _aggregated_resource(r) for r in RESOURCES if r.group == group and r.version == gv
        ]
        entry: dict[str, Any] = {"version": gv, "resources": resources, "freshness": "Current"}
        existing = next((i for i in items if i["metadata"].get("name", "") == group), None)
        if existing is not None:
            existing["versions"].append(entry)
            continue
        metadata: dict[str, Any] = {"creationTimestamp": None}
        if group:
            metadata["name"] = group
        items.append({"metadata": metadata, "versions": [entry]})
    return {
        "kind": "APIGroupDiscoveryList",
        "apiVersion": f"apidiscovery.k8s.io/{version}",
        "metadata": {},
        "items": items,
    }
