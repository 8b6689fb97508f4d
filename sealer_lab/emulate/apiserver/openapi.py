"""A minimal OpenAPI v3 answer: enough for kubectl's field-validation probe.

``kubectl create/apply/replace`` first asks /openapi/v3 whether the server supports the
``fieldValidation`` query parameter on PATCH of the object's kind; when it does, kubectl leaves
validation to the server instead of downloading full schemas. The emulator therefore publishes
one path per resource with its verbs, the ``x-kubernetes-group-version-kind`` extension and the
``fieldValidation`` parameter, and no schemas (documented gap: no server-side schema checks).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sealer_lab.emulate.apiserver.resources import RESOURCES, group_versions

__all__ = ["openapi_v3_document", "openapi_v3_index"]


def _key(group: str, version: str) -> str:
    return f"apis/{group}/{version}" if group else f"api/{version}"


def openapi_v3_document(group: str, version: str) -> dict[str, Any] | None:
    members = [r for r in RESOURCES if r.group == group and r.version == version]
    if not members:
        return None
    paths: dict[str, Any] = {}
    for res in members:
        gvk = {"group": group, "version": version, "kind": res.kind}
        param = {"name": "fieldValidation", "in": "query", "schema": {"type": "string"}}
        op = {
            "x-kubernetes-group-version-kind": gvk,
            "parameters": [param],
            "responses": {"200": {"description": "OK"}},
        }
        base = f"/{_key(group, version)}"
        scope = (
            f"{base}/namespaces/{{namespace}}/{res.plural}"
            if res.namespaced
            else f"{base}/{res.plural}"
        )
        paths[scope] = {"post": {**op, "operationId": f"create{res.kind}"}}
        paths[f"{scope}/{{name}}"] = {
            "put": {**op, "operationId": f"replace{res.kind}"},
            "patch": {**op, "operationId": f"patch{res.kind}"},
        }
    return {
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": "unversioned"},
        "paths": paths,
        "components": {"schemas": {}},
    }


def _hash(doc: dict[str, Any]) -> str:
    return hashlib.sha512(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:128].upper()


def openapi_v3_index() -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for group, version in group_versions():
        doc = openapi_v3_document(group, version)
        assert doc is not None
        key = _key(group, version)
        paths[key] = {"serverRelativeURL": f"/openapi/v3/{key}?hash={_hash(doc)}"}
    return {"paths": paths}
