"""The JSON Schema of the Clusterfile, generated from the models."""

from __future__ import annotations

import json
from typing import Any

from sealer.spec.model import Cluster

__all__ = ["SCHEMA_ID", "clusterfile_schema", "clusterfile_schema_text"]

SCHEMA_ID = "https://sealer.dev/schemas/clusterfile.schema.json"


def _drop_field_titles(node: Any) -> Any:
    """pydantic titles fields after their Python names ("Keyalgorithm"); editors show the key."""
    if isinstance(node, dict):
        props = node.get("properties")
        if isinstance(props, dict):
            for prop in props.values():
                if isinstance(prop, dict):
                    prop.pop("title", None)
        for value in node.values():
            _drop_field_titles(value)
    elif isinstance(node, list):
        for item in node:
            _drop_field_titles(item)
    return node


def clusterfile_schema() -> dict[str, Any]:
    schema = _drop_field_titles(Cluster.model_json_schema(by_alias=True, mode="validation"))
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID, **schema}


def clusterfile_schema_text() -> str:
    return json.dumps(clusterfile_schema(), indent=2, sort_keys=True) + "\n"
