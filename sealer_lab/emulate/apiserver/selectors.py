"""labelSelector and fieldSelector query parameters, with the real grammar's common subset."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from sealer_lab.emulate.apiserver.status import ApiError

__all__ = ["field_selector", "label_selector"]

Obj = dict[str, Any]
Predicate = Callable[[Obj], bool]

_SET_RE = re.compile(r"^\s*(!?)([A-Za-z0-9_./-]+)\s+(in|notin)\s+\(([^)]*)\)\s*$")


def _split_terms(text: str) -> list[str]:
    """Split on commas that are not inside ``( ... )``."""
    terms: list[str] = []
    depth = 0
    current = ""
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            terms.append(current)
            current = ""
        else:
            current += char
    if current.strip():
        terms.append(current)
    return [t.strip() for t in terms if t.strip()]


def _label_term(term: str) -> Predicate:
    match = _SET_RE.match(term)
    if match:
        key, op = match.group(2), match.group(3)
        values = {v.strip() for v in match.group(4).split(",") if v.strip()}
        if op == "in":
            return lambda labels: labels.get(key) in values
        return lambda labels: labels.get(key) not in values
    for op in ("!=", "==", "="):
        if op in term:
            key, value = (p.strip() for p in term.split(op, 1))
            if op == "!=":
                return lambda labels: labels.get(key) != value
            return lambda labels: key in labels and labels.get(key) == value
    if term.startswith("!"):
        key = term[1:].strip()
        return lambda labels: key not in labels
    if re.match(r"^[A-Za-z0-9_./-]+$", term):
        return lambda labels: term in labels
    raise ApiError(400, "BadRequest", f"unable to parse requirement: {term!r}")


def label_selector(text: str) -> Predicate:
    terms = [_label_term(t) for t in _split_terms(text or "")]

    def check(obj: Obj) -> bool:
        labels = obj.get("metadata", {}).get("labels") or {}
        return all(t(labels) for t in terms)

    return check


def _lookup(obj: Obj, path: str) -> str:
    value: Any = obj
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def field_selector(text: str) -> Predicate:
    terms: list[tuple[str, str, bool]] = []
    for term in _split_terms(text or ""):
        for op in ("!=", "==", "="):
            if op in term:
                key, value = (p.strip() for p in term.split(op, 1))
                terms.append((key, value, op != "!="))
                break
        else:
            raise ApiError(
                400, "BadRequest", f"invalid selector: '{text}'; can't understand '{term}'"
            )

    def check(obj: Obj) -> bool:
        return all((_lookup(obj, key) == value) == equal for key, value, equal in terms)

    return check
