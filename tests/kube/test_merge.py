"""Deep merge of user patches."""

from __future__ import annotations

import copy

from sealer.kube.merge import deep_merge


def test_maps_merge_lists_replace_null_removes_inputs_untouched() -> None:
    base = {"a": {"b": 1, "c": [1, 2]}, "d": "x", "e": {"f": 1}}
    patch = {"a": {"c": [3], "g": {"h": True}}, "d": None, "e": "scalar"}
    before = copy.deepcopy((base, patch))
    merged = deep_merge(base, patch)
    assert merged == {"a": {"b": 1, "c": [3], "g": {"h": True}}, "e": "scalar"}
    assert (base, patch) == before
    merged["a"]["g"]["h"] = False
    assert patch["a"]["g"]["h"] is True  # type: ignore[index]


def test_keyed_lists_merge_by_name_and_keep_duplicates_from_the_patch() -> None:
    base = {"x": {"extraArgs": [{"name": "a", "value": "1"}, {"name": "b", "value": "2"}]}}
    patch = {"x": {"extraArgs": [{"name": "b", "value": "3"}, {"name": "b", "value": "4"}]}}

    def keyed(path: tuple[str, ...]) -> str | None:
        return "name" if path[-1] == "extraArgs" else None

    assert deep_merge(base, patch, keyed)["x"]["extraArgs"] == [
        {"name": "a", "value": "1"},
        {"name": "b", "value": "3"},
        {"name": "b", "value": "4"},
    ]
    assert deep_merge(base, patch)["x"]["extraArgs"] == patch["x"]["extraArgs"]
