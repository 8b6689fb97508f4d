"""Request and response bodies: decoding, the decoder's checks, write-only fields, lists."""

from __future__ import annotations

import base64
import json
from typing import Any

from sealer_lab.emulate.apiserver.resources import Resource
from sealer_lab.emulate.apiserver.status import bad_request

__all__ = ["apply_body", "check_kind", "list_doc", "sends_rv", "string_data"]

Obj = dict[str, Any]


def apply_body(raw: bytes) -> Obj:
    """An apply patch is YAML (JSON is YAML too)."""
    try:
        doc = json.loads(raw)
    except ValueError:
        from ruamel.yaml import YAML
        from ruamel.yaml.error import YAMLError

        try:
            doc = YAML(typ="safe").load(raw.decode())
        except (YAMLError, UnicodeDecodeError) as exc:
            raise bad_request(f"error decoding YAML: {exc}") from None
    if not isinstance(doc, dict):
        raise bad_request("the apply patch is not an object")
    return doc


def check_kind(res: Resource, body: Obj) -> None:
    """The decoder's check: a body's apiVersion/kind, when given, must be the URL's."""
    api_version = body.get("apiVersion")
    if api_version and api_version != res.api_version:
        raise bad_request(
            f"the API version in the data ({api_version}) does not match the expected API "
            f"version ({res.api_version})"
        )
    kind = body.get("kind")
    if kind and kind != res.kind:
        raise bad_request(
            f"the kind in the data ({kind}) does not match the expected kind ({res.kind})"
        )


def sends_rv(body: Any) -> bool:
    return isinstance(body, dict) and bool((body.get("metadata") or {}).get("resourceVersion"))


def string_data(res: Resource, obj: Obj) -> Obj:
    """Secrets: write-only ``stringData`` is folded into ``data`` (base64), like the real one."""
    if res.plural != "secrets" or "stringData" not in obj:
        return obj
    obj = dict(obj)
    data = dict(obj.get("data") or {})
    for key, value in (obj.pop("stringData") or {}).items():
        data[key] = base64.b64encode(str(value).encode()).decode()
    obj["data"] = data
    return obj


def list_doc(res: Resource, items: list[Obj], rv: str) -> Obj:
    return {
        "kind": f"{res.kind}List",
        "apiVersion": res.api_version,
        "metadata": {"resourceVersion": rv},
        "items": items,
    }
