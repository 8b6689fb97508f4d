"""The three patch types kubectl and client-go send: JSON merge, JSON patch, strategic merge.

Strategic merge is JSON merge plus merge-by-key for the lists the emulated resources declare
``patchStrategy: merge`` on (conditions, addresses, containers, ...) and the ``$patch``,
``$retainKeys``, ``$setElementOrder`` and ``$deleteFromPrimitiveList`` directives.
"""

from __future__ import annotations

import copy
from typing import Any

__all__ = ["PatchError", "apply_patch", "json_patch", "merge_patch", "strategic_merge_patch"]

# field name -> merge key of lists that strategic merge patch merges instead of replacing
_MERGE_KEYS: dict[str, str] = {
    "conditions": "type",
    "addresses": "type",
    "containers": "name",
    "initContainers": "name",
    "ephemeralContainers": "name",
    "volumes": "name",
    "volumeMounts": "mountPath",
    "env": "name",
    "ownerReferences": "uid",
    "imagePullSecrets": "name",
    "ports": "containerPort",
    "taints": "key",
    "containerStatuses": "name",
    "initContainerStatuses": "name",
    "images": "",
}
_PRIMITIVE_MERGE = {"finalizers"}


class PatchError(Exception):
    """The patch cannot be applied (400/422 for the caller)."""


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise PatchError(f"invalid JSON pointer {path!r}")
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _walk(doc: Any, parts: list[str]) -> Any:
    for part in parts:
        if isinstance(doc, list):
            try:
                doc = doc[int(part)]
            except (ValueError, IndexError):
                raise PatchError(f"index {part} out of range") from None
        elif isinstance(doc, dict):
            if part not in doc:
                raise PatchError(f"missing key {part!r}")
            doc = doc[part]
        else:
            raise PatchError(f"cannot descend into {part!r}")
    return doc


def json_patch(target: Any, ops: Any) -> Any:
    """RFC 6902 JSON patch."""
    if not isinstance(ops, list):
        raise PatchError("json patch must be a list of operations")
    doc = copy.deepcopy(target)
    for op in ops:
        if not isinstance(op, dict) or "op" not in op or "path" not in op:
            raise PatchError(f"invalid operation {op!r}")
        kind = op["op"]
        parts = _pointer(op["path"])
        if kind == "test":
            if _walk(doc, parts) != op.get("value"):
                raise PatchError(f"test failed at {op['path']}")
            continue
        if kind in {"move", "copy"}:
            value = copy.deepcopy(_walk(doc, _pointer(op["from"])))
            if kind == "move":
                doc = _remove(doc, _pointer(op["from"]))
            doc = _add(doc, parts, value)
            continue
        if kind == "remove":
            doc = _remove(doc, parts)
        elif kind == "add":
            doc = _add(doc, parts, copy.deepcopy(op.get("value")))
        elif kind == "replace":
            doc = _remove(doc, parts)
            doc = _add(doc, parts, copy.deepcopy(op.get("value")))
        else:
            raise PatchError(f"unknown operation {kind!r}")
    return doc


def _add(doc: Any, parts: list[str], value: Any) -> Any:
    if not parts:
        return value
    parent = _walk(doc, parts[:-1])
    last = parts[-1]
    if isinstance(parent, list):
        if last == "-":
            parent.append(value)
        else:
            try:
                index = int(last)
            except ValueError:
                raise PatchError(f"bad index {last!r}") from None
            if not 0 <= index <= len(parent):
                raise PatchError(f"index {last} out of range")
            parent.insert(index, value)
    elif isinstance(parent, dict):
        parent[last] = value
    else:
        raise PatchError(f"cannot add at {last!r}")
    return doc


def _remove(doc: Any, parts: list[str]) -> Any:
    if not parts:
        return None
    parent = _walk(doc, parts[:-1])
    last = parts[-1]
    if isinstance(parent, list):
        try:
            del parent[int(last)]
        except (ValueError, IndexError):
            raise PatchError(f"index {last} out of range") from None
    elif isinstance(parent, dict):
        if last not in parent:
            raise PatchError(f"missing key {last!r}")
        del parent[last]
    else:
        raise PatchError(f"cannot remove {last!r}")
    return doc


def strategic_merge_patch(target: Any, patch: Any) -> Any:
    """Strategic merge patch over the merge keys in ``_MERGE_KEYS``."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if patch.get("$patch") == "replace":
        return {k: copy.deepcopy(v) for k, v in patch.items() if k != "$patch"}
    if patch.get("$patch") == "delete":
        return None
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    retain = patch.get("$retainKeys")
    for key, value in patch.items():
        if key in {"$patch", "$retainKeys"} or key.startswith("$setElementOrder/"):
            continue
        if key.startswith("$deleteFromPrimitiveList/"):
            field = key.split("/", 1)[1]
            if isinstance(result.get(field), list) and isinstance(value, list):
                result[field] = [v for v in result[field] if v not in value]
            continue
        if value is None:
            result.pop(key, None)
        elif isinstance(value, list) and key in _MERGE_KEYS and _MERGE_KEYS[key]:
            result[key] = _merge_list(result.get(key), value, _MERGE_KEYS[key])
        elif isinstance(value, list) and key in _PRIMITIVE_MERGE:
            old: list[Any] = result[key] if isinstance(result.get(key), list) else []
            result[key] = [*old, *[v for v in value if v not in old]]
        elif isinstance(value, dict):
            merged = strategic_merge_patch(result.get(key), value)
            if merged is None:
                result.pop(key, None)
            else:
                result[key] = merged
        else:
            result[key] = copy.deepcopy(value)
    if isinstance(retain, list):
        result = {k: v for k, v in result.items() if k in retain}
    return result


def _merge_list(old: Any, patch: list[Any], merge_key: str) -> list[Any]:
    items = [copy.deepcopy(i) for i in old] if isinstance(old, list) else []
    if any(isinstance(p, dict) and p.get("$patch") == "replace" for p in patch):
        return [copy.deepcopy(p) for p in patch if not (isinstance(p, dict) and "$patch" in p)]
    for entry in patch:
        if not isinstance(entry, dict) or merge_key not in entry:
            items.append(copy.deepcopy(entry))
            continue
        index = next(
            (
                i
                for i, item in enumerate(items)
                if isinstance(item, dict) and item.get(merge_key) == entry[merge_key]
            ),
            None,
        )
        if entry.get("$patch") == "delete":
            if index is not None:
                del items[index]
            continue
        if index is None:
            items.append(strategic_merge_patch({}, entry))
        else:
            items[index] = strategic_merge_patch(items[index], entry)
    return items


def apply_patch(content_type: str, target: Any, patch: Any) -> Any:
    """Dispatch on the request's Content-Type, as the real PATCH handler does."""
    kind = content_type.split(";")[0].strip()
    if kind == "application/json-patch+json":
        return json_patch(target, patch)
    if kind == "application/merge-patch+json":
        return merge_patch(target, patch)
    if kind == "application/strategic-merge-patch+json":
        return strategic_merge_patch(target, patch)
    raise PatchError(f"unsupported patch type {kind!r}")
