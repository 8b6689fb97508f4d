"""clusterfile.example.yaml: points editors at the schema, validates, documents every field."""

from __future__ import annotations

import re
import types
import typing
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from sealer.spec.model import Cluster
from tests.spec.conftest import EXAMPLE, REPO, CliRunner


def test_first_line_points_at_the_schema() -> None:
    first = EXAMPLE.read_text().splitlines()[0]
    assert first == "# yaml-language-server: $schema=./schemas/clusterfile.schema.json"
    assert (REPO / "schemas" / "clusterfile.schema.json").is_file()


def test_example_validates_without_warnings(
    cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(REPO)
    run = cli(["validate", "-f", "clusterfile.example.yaml"])
    assert run.code == 0
    assert run.err == ""
    assert run.out == (
        "clusterfile.example.yaml: valid: cluster prod, Kubernetes v1.29.3, "
        "3 master(s), 11 node(s)\n"
    )


def _models(annotation: Any) -> list[type[BaseModel]]:
    """The models an annotation may hold (through Optional, list and dict values)."""
    origin = typing.get_origin(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    if origin is typing.Annotated:
        return _models(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType, list):
        return [m for arg in typing.get_args(annotation) for m in _models(arg)]
    if origin is dict:
        return _models(typing.get_args(annotation)[1])
    return []


def _fields(
    model: type[BaseModel], depth: int = 0, seen: set[type[BaseModel]] | None = None
) -> Iterator[tuple[int, str, Any, bool]]:
    """(depth, YAML name, default, required) of every field, depth first, in model order.

    A model met a second time (JumpHost under spec.hosts.*.ssh) is documented once: only the
    field naming it is required again.
    """
    seen = set() if seen is None else seen
    seen.add(model)
    for name, info in model.model_fields.items():
        yield depth, info.alias or name, info.default, info.is_required()
        for sub in _models(info.annotation):
            if sub not in seen:
                yield from _fields(sub, depth + 1, seen)


def _shown(default: Any) -> str:
    if isinstance(default, bool):
        return "true" if default else "false"
    if default == "":
        return '""'
    return str(default)


def test_every_field_is_documented_in_order_with_its_default() -> None:
    lines = EXAMPLE.read_text().splitlines()
    at = 0
    missing: list[str] = []
    for depth, name, default, required in _fields(Cluster):
        pattern = re.compile(rf"^\s*(#\s*)?(- )?(#\s*)?{re.escape(name)}:(\s|$)")
        found = next((i for i in range(at, len(lines)) if pattern.match(lines[i])), None)
        if found is None:
            missing.append(f"{'  ' * depth}{name}: not found after line {at + 1}")
            continue
        # the comment block just above the field, and the field's own line
        start = found
        while (
            start > 0
            and lines[start - 1].lstrip().startswith("#")
            and not pattern.match(lines[start - 1])
        ):
            start -= 1
        block = "\n".join(lines[start : found + 1])
        if required and "Required" not in block:
            missing.append(f"{name} (line {found + 1}): the comment does not say Required")
        if (
            not required
            and default is not None
            and default is not PydanticUndefined
            and isinstance(default, str | int | bool)
            and f"Default: {_shown(default)}" not in block
        ):
            missing.append(f"{name} (line {found + 1}): no 'Default: {_shown(default)}'")
        at = found + 1
    assert missing == [], "\n".join(missing)


def test_documentation_check_sees_every_model() -> None:
    names = {name for _, name, _, _ in _fields(Cluster)}
    # one field of each model, so that a model left out of the walk fails the test above
    assert {"metadata", "jumpHost", "taints", "effect", "podCIDR", "sha256", "rise"} <= names
    assert {"validityYears", "kubeProxyConfiguration", "agent", "labels"} <= names
