"""YAML in and out for the emulated programs (ruamel.yaml, pure-Python safe mode)."""

from __future__ import annotations

import io
from typing import Any

from ruamel.yaml import YAML

__all__ = ["dump", "dump_all", "load", "load_all"]


def _yaml() -> YAML:
    y = YAML(typ="safe", pure=True)
    y.default_flow_style = False
    y.width = 4096
    y.sort_base_mapping_type_on_output = False  # type: ignore[assignment]
    return y


def load(text: str) -> Any:
    return _yaml().load(text)


def load_all(text: str) -> list[Any]:
    return [doc for doc in _yaml().load_all(text) if doc is not None]


def dump(data: Any) -> str:
    buf = io.StringIO()
    _yaml().dump(data, buf)
    return buf.getvalue()


def dump_all(docs: list[Any]) -> str:
    buf = io.StringIO()
    _yaml().dump_all(docs, buf)
    return buf.getvalue()
