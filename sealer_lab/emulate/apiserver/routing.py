"""Request routing: API paths to (resource, namespace, name, subresource) and verbs."""

from __future__ import annotations

from dataclasses import dataclass

from sealer_lab.emulate.apiserver.resources import Resource, find_resource
from sealer_lab.emulate.apiserver.status import ApiError

__all__ = ["Route", "route", "verb"]


@dataclass(frozen=True)
class Route:
    res: Resource
    namespace: str
    name: str
    subresource: str


def route(path: str) -> tuple[str, str, Route | None] | None:
    """(group, version, route) for API paths; route None for a group-version document."""
    parts = [p for p in path.split("/") if p]
    if parts[:1] == ["api"] and len(parts) >= 2:
        group, version, rest = "", parts[1], parts[2:]
    elif parts[:1] == ["apis"] and len(parts) >= 3:
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        return None
    if not rest:
        return group, version, None
    namespace = ""
    if rest[0] == "namespaces" and len(rest) >= 3:
        candidate = find_resource(group, version, rest[2])
        if candidate is not None and candidate.namespaced:
            namespace, rest = rest[1], rest[2:]
    res = find_resource(group, version, rest[0])
    if res is None:
        raise ApiError(404, "NotFound", "the server could not find the requested resource")
    name = rest[1] if len(rest) > 1 else ""
    sub = rest[2] if len(rest) > 2 else ""
    if len(rest) > 3 or (sub and sub not in res.subresources):
        raise ApiError(404, "NotFound", "the server could not find the requested resource")
    if res.namespaced and not namespace and name:
        raise ApiError(404, "NotFound", "the server could not find the requested resource")
    return group, version, Route(res, namespace, name, sub)


def verb(method: str, route: Route, query: dict[str, str]) -> str:
    if method == "GET":
        if route.name:
            return "get"
        return "watch" if query.get("watch") in {"1", "true"} else "list"
    if method == "POST":
        return "create"
    if method == "PUT":
        return "update"
    if method == "PATCH":
        return "patch"
    if method == "DELETE":
        return "delete" if route.name else "deletecollection"
    raise ApiError(405, "MethodNotAllowed", f"{method} is not supported")
