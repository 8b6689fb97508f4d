"""`sealer schema` and schemas/clusterfile.schema.json agree, and the schema accepts our files."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from tests.spec.conftest import EXAMPLE, REPO, VALID, VALID_ENV, CliRunner

SCHEMA_FILE = REPO / "schemas" / "clusterfile.schema.json"
HAVE_JSONSCHEMA = importlib.util.find_spec("jsonschema") is not None


def _yaml(path: Path) -> Any:
    return YAML(typ="safe").load(path.read_text())


def test_schema_command_matches_the_committed_file(cli: CliRunner) -> None:
    run = cli(["schema"])
    assert run.code == 0 and run.err == ""
    assert run.out == SCHEMA_FILE.read_text(), (
        "schemas/clusterfile.schema.json is out of date with the models; regenerate it with "
        "`sealer schema > schemas/clusterfile.schema.json`"
    )
    schema = json.loads(run.out)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["title"] == "Clusterfile"
    assert schema["required"] == ["apiVersion", "kind", "metadata", "spec"]


def _resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        node = schema["$defs"][name]
    return node


def _structural_errors(
    schema: dict[str, Any], node: dict[str, Any], data: Any, at: str
) -> list[str]:
    """A small subset of JSON Schema: objects, properties, required, arrays, anyOf, types."""
    node = _resolve(schema, node)
    if "anyOf" in node:
        options = [_structural_errors(schema, o, data, at) for o in node["anyOf"]]
        return [] if any(not o for o in options) else [f"{at}: matches no anyOf branch"]
    kind = node.get("type")
    if "const" in node and data != node["const"]:
        return [f"{at}: not {node['const']!r}"]
    if "enum" in node and data not in node["enum"]:
        return [f"{at}: not one of {node['enum']}"]
    if kind == "object":
        if not isinstance(data, dict):
            return [f"{at}: not an object"]
        errors = [f"{at}.{r}: missing" for r in node.get("required", []) if r not in data]
        props = node.get("properties", {})
        extra = node.get("additionalProperties", True)
        for key, value in data.items():
            if key in props:
                errors += _structural_errors(schema, props[key], value, f"{at}.{key}")
            elif extra is False:
                errors.append(f"{at}.{key}: not allowed")
            elif isinstance(extra, dict):
                errors += _structural_errors(schema, extra, value, f"{at}.{key}")
        return errors
    if kind == "array":
        if not isinstance(data, list):
            return [f"{at}: not an array"]
        items = node.get("items", {})
        return [
            e
            for i, v in enumerate(data)
            for e in _structural_errors(schema, items, v, f"{at}[{i}]")
        ]
    checks = {"string": str, "integer": int, "boolean": bool, "null": type(None)}
    if kind in checks and not isinstance(data, checks[kind]):
        return [f"{at}: not a {kind}"]
    return []


def _schema_errors(data: Any) -> list[str]:
    schema = json.loads(SCHEMA_FILE.read_text())
    if HAVE_JSONSCHEMA:
        import jsonschema

        validator = jsonschema.Draft202012Validator(schema)
        return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(data)]
    return _structural_errors(schema, schema, data, "")


SCHEMA_CHECKED = [EXAMPLE, *sorted(VALID.glob("*.yaml"))]


@pytest.mark.parametrize("path", SCHEMA_CHECKED, ids=[p.name for p in SCHEMA_CHECKED])
def test_schema_accepts_the_example_and_valid_files(path: Path) -> None:
    assert _schema_errors(_yaml(path)) == []


@pytest.mark.parametrize(
    ("mutate", "why"),
    [
        (lambda d: d["spec"]["ssh"].update(pasword="x"), "unknown field"),
        (lambda d: d["spec"].pop("version"), "missing required field"),
        (lambda d: d["spec"]["ssh"].update(port="22"), "port is a string"),
        (lambda d: d.update(kind="Clusters"), "wrong kind"),
    ],
)
def test_schema_rejects_what_validate_rejects(mutate: Any, why: str) -> None:
    data = _yaml(VALID / "minimal.yaml")
    mutate(data)
    assert _schema_errors(data) != [], why


def test_structural_checker_agrees_on_the_valid_files() -> None:
    """The fallback used without jsonschema accepts the same files and rejects a bad one."""
    schema = json.loads(SCHEMA_FILE.read_text())
    for path in SCHEMA_CHECKED:
        assert _structural_errors(schema, schema, _yaml(path), "") == [], path.name
    bad = _yaml(VALID / "minimal.yaml")
    bad["spec"]["ssh"]["privatekey"] = "/x"
    assert _structural_errors(schema, schema, bad, "") == [".spec.ssh.privatekey: not allowed"]
    assert VALID_ENV  # env-secrets.yaml is schema-valid without its variables set
