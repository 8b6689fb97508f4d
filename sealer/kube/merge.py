"""Merge a user's patch into a generated document.

Mappings merge key by key, recursively; a list in the patch replaces the generated list; a
``null`` in the patch removes the key (as in a JSON merge patch). One exception keeps the
v1beta3 meaning of ``extraArgs`` in v1beta4, where the mapping became a list of
``{name, value}``: lists the caller marks as *keyed* merge by that key (the patch's entries
win and come last, generated entries whose name the patch does not mention are kept).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["KeyedLists", "deep_merge"]

Path = tuple[str, ...]
#: Given the path of a list, the key its items merge by, or None to replace the list.
KeyedLists = Callable[[Path], str | None]


def _no_keyed_lists(_path: Path) -> str | None:
    return None


def deep_merge(
    base: Mapping[str, Any],
    patch: Mapping[str, Any],
    keyed_lists: KeyedLists = _no_keyed_lists,
    _path: Path = (),
) -> dict[str, Any]:
    """A new mapping: ``base`` with ``patch`` merged in (neither argument is changed)."""
    result: dict[str, Any] = copy.deepcopy(dict(base))
    for key, value in patch.items():
        path = (*_path, key)
        if value is None:
            result.pop(key, None)
            continue
        current = result.get(key)
        if isinstance(value, Mapping) and isinstance(current, Mapping):
            result[key] = deep_merge(current, value, keyed_lists, path)
            continue
        item_key = keyed_lists(path)
        if item_key is not None and isinstance(value, list) and isinstance(current, list):
            result[key] = _merge_keyed(current, value, item_key)
            continue
        result[key] = copy.deepcopy(value)
    return result


def _merge_keyed(base: list[Any], patch: list[Any], item_key: str) -> list[Any]:
    named = {item.get(item_key) for item in patch if isinstance(item, Mapping)}
    kept = [
        copy.deepcopy(item)
        for item in base
        if not (isinstance(item, Mapping) and item.get(item_key) in named)
    ]
    return kept + copy.deepcopy(patch)
