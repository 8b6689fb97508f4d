"""Load a Clusterfile: YAML with positions, ``${VAR}`` secrets, pydantic, cross checks.

Every problem found is collected, not just the first, and each names ``file:line:column``
and the field path, e.g. ``cluster.yaml:7:5: spec.masters[1]: '10.0.0.300' is not a valid
IP address``.
"""

from __future__ import annotations

import datetime
import difflib
import json
import os
import re
import types
import typing
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from sealer.errors import Problem, SealerError, SpecError
from sealer.spec.checks import cross_checks
from sealer.spec.envvars import expand_secrets
from sealer.spec.model import Cluster
from sealer.spec.yamlpos import Positions, YamlSyntaxError, load_with_positions

__all__ = [
    "MAX_FILE_BYTES",
    "LoadedClusterfile",
    "format_path",
    "load_clusterfile",
    "validate_text",
    "yaml_type_name",
]

PathT = tuple[str | int, ...]


@dataclass(frozen=True)
class LoadedClusterfile:
    path: Path
    cluster: Cluster
    warnings: list[Problem] = field(default_factory=list)


def format_path(path: PathT) -> str:
    out = ""
    for part in path:
        if isinstance(part, int) and not isinstance(part, bool):
            out += f"[{part}]"
        elif not isinstance(part, str):  # a YAML key that is not a string (null, true, 1.5)
            out += f"[{part!r}]"
        elif not out and part:
            out = part
        elif part and all(c.isalnum() or c in "_-" for c in part) and not part[0].isdigit():
            out += f".{part}"
        else:
            out += f"[{json.dumps(part, ensure_ascii=False)}]"  # one line, quotes escaped
    return out


def yaml_type_name(value: Any) -> str:
    """How a YAML value's type is named in messages ("a mapping", "a date"...)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, datetime.date):  # YAML reads 2024-01-01 as a date
        return "a date"
    tag = getattr(getattr(value, "tag", None), "value", None)
    if isinstance(tag, str):  # a scalar with a custom tag such as !secret
        return f"a value tagged {tag}"
    return type(value).__name__


def _shown(value: Any, path: PathT) -> str:
    if path and path[-1] in ("password", "passphrase"):
        return "(secret)"
    return repr(value) if isinstance(value, str) else str(value)


def _unwrap(annotation: Any) -> list[Any]:
    """The concrete types an annotation may hold (Optional, list and dict unwrapped lazily)."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return [t for arg in typing.get_args(annotation) for t in _unwrap(arg)]
    return [annotation]


def _fields_at(path: PathT) -> list[str]:
    """The YAML field names allowed in the mapping at ``path`` (for "did you mean")."""
    current: list[Any] = [Cluster]
    for part in path:
        following: list[Any] = []
        for candidate in current:
            origin = typing.get_origin(candidate)
            if isinstance(candidate, type) and issubclass(candidate, BaseModel):
                for name, info in candidate.model_fields.items():
                    if part in (name, info.alias):
                        following.extend(_unwrap(info.annotation))
            elif origin is list and isinstance(part, int):
                following.extend(_unwrap(typing.get_args(candidate)[0]))
            elif origin is dict:
                following.extend(_unwrap(typing.get_args(candidate)[1]))
        current = following
    names: list[str] = []
    for candidate in current:
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            names.extend(info.alias or name for name, info in candidate.model_fields.items())
    return names


def _message(error: ErrorDetails, path: PathT) -> str:
    kind = error["type"]
    value = error.get("input")
    ctx = error.get("ctx") or {}
    if kind == "extra_forbidden":
        name = str(path[-1])
        allowed = _fields_at(path[:-1])
        close = difflib.get_close_matches(name, allowed, n=1, cutoff=0.6)
        if not close:
            close = [a for a in allowed if a.lower() == name.lower()]
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        return f"unknown field '{name}'{hint}"
    if kind == "missing":
        return "required field is missing"
    if kind == "value_error":
        return str(ctx.get("error", error["msg"]))
    if kind in ("string_type",):
        return f"expected a string, got {yaml_type_name(value)}"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return f"expected an integer, got {yaml_type_name(value)} {_shown(value, path)}"
    if kind in ("bool_type", "bool_parsing"):
        return f"expected true or false, got {yaml_type_name(value)} {_shown(value, path)}"
    if kind == "list_type":
        return f"expected a list, got {yaml_type_name(value)}"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return f"expected a mapping, got {yaml_type_name(value)}"
    if kind == "literal_error":
        return f"{_shown(value, path)} is not one of: {ctx.get('expected', '')}"
    if kind in ("greater_than_equal", "greater_than"):
        return (
            f"{_shown(value, path)} is too small (must be at least {ctx.get('ge', ctx.get('gt'))})"
        )
    if kind in ("less_than_equal", "less_than"):
        return (
            f"{_shown(value, path)} is too large (must be at most {ctx.get('le', ctx.get('lt'))})"
        )
    if kind == "too_short":
        need = ctx.get("min_length", 1)
        return f"must have at least {need} entr{'y' if need == 1 else 'ies'}"
    if kind == "string_too_short":
        return "must not be empty"
    return str(error["msg"])


def _problem(
    name: str,
    pos: Positions,
    path: PathT,
    message: str,
    *,
    key: bool = False,
    severity: str = "error",
) -> Problem:
    line, column = pos.of_key(path) if key else pos.of_value(path)
    return Problem(name, line, column, format_path(path), message, severity)


#: A check of a valid Clusterfile from a layer above this one (the kubeadm patches): it
#: returns ``(path, message)`` pairs, the path written like ``spec.kubeadm.x["y"][0]``.
ExtraCheck = Callable[[Cluster], Iterable[tuple[str, str]]]

_PATH_TOKEN = re.compile(r'\.?([A-Za-z0-9_-]+)|\[(\d+)\]|\["((?:[^"\\]|\\.)*)"\]')


def parse_path(text: str) -> PathT:
    """``spec.hosts["10.0.0.1"].ssh.port`` -> ``("spec", "hosts", "10.0.0.1", "ssh", "port")``;
    the inverse of :func:`format_path`."""
    parts: list[str | int] = []
    for match in _PATH_TOKEN.finditer(text):
        name, index, quoted = match.groups()
        parts.append(int(index) if index is not None else (name if name is not None else quoted))
    return tuple(parts)


def validate_text(
    text: str,
    name: str,
    env: Mapping[str, str] | None = None,
    extra_checks: Sequence[ExtraCheck] = (),
) -> tuple[Cluster | None, list[Problem]]:
    """Validate Clusterfile text; return the model (None when invalid) and every problem."""
    env = os.environ if env is None else env
    try:
        data, pos = load_with_positions(text)
    except YamlSyntaxError as exc:
        return None, _sorted([Problem(name, exc.line, exc.column, "", exc.message)])
    if data is None:
        return None, [Problem(name, 1, 1, "", "the file is empty: expected a Clusterfile mapping")]
    if not isinstance(data, dict):
        return None, [
            Problem(name, 1, 1, "", f"expected a Clusterfile mapping, got {yaml_type_name(data)}")
        ]
    problems: list[Problem] = []

    def report(path: PathT, message: str) -> None:
        problems.append(_problem(name, pos, path, message))

    data = expand_secrets(data, env, report)
    try:
        cluster = Cluster.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors():
            path = tuple(p for p in error["loc"] if p != "[key]")
            is_key = error["type"] in ("extra_forbidden", "missing") or "[key]" in error["loc"]
            if error["type"] == "missing":
                parent_known = path[:-1] in pos.keys or path[:-1] == ()
                line, column = pos.of_key(path[:-1]) if parent_known else pos.of_value(path)
                problems.append(
                    Problem(name, line, column, format_path(path), _message(error, path))
                )
                continue
            problems.append(_problem(name, pos, path, _message(error, path), key=is_key))
        return None, _sorted(problems)
    for path, message, severity in cross_checks(cluster):
        problems.append(_problem(name, pos, path, message, key=False, severity=severity))
    for check in extra_checks:
        for path_text, message in check(cluster):
            at_key = message.startswith("unknown field")
            problems.append(_problem(name, pos, parse_path(path_text), message, key=at_key))
    errors = [p for p in problems if p.severity == "error"]
    return (None if errors else cluster), _sorted(problems)


def _one_line(text: str) -> str:
    """Escape control characters (a newline in a key or value) so a problem stays one line."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _sorted(problems: list[Problem]) -> list[Problem]:
    cleaned = [replace(p, path=_one_line(p.path), message=_one_line(p.message)) for p in problems]
    return sorted(cleaned, key=lambda p: (p.line, p.column, p.path, p.message))


#: The largest Clusterfile read (checked before parsing; a Clusterfile is a few kilobytes).
MAX_FILE_BYTES = 1024 * 1024


def load_clusterfile(
    path: str | Path,
    env: Mapping[str, str] | None = None,
    extra_checks: Sequence[ExtraCheck] = (),
) -> LoadedClusterfile:
    """Load and validate a Clusterfile; raise SpecError with every problem when invalid."""
    path = Path(path)
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
        if len(raw) > MAX_FILE_BYTES:
            message = (
                f"the file is larger than {MAX_FILE_BYTES} bytes (1 MiB), the most a "
                "Clusterfile may hold (they are a few kilobytes): not read further"
            )
            raise SpecError([Problem(str(path), 1, 1, "", message)])
        text = raw.decode("utf-8")
    except FileNotFoundError:
        raise SealerError(f"{path}: no such Clusterfile", hint="pass it with -f FILE") from None
    except IsADirectoryError:
        raise SealerError(f"{path}: is a directory, not a Clusterfile") from None
    except UnicodeDecodeError:
        raise SealerError(f"{path}: is not UTF-8 text") from None
    except OSError as exc:
        raise SealerError(f"{path}: cannot read the Clusterfile: {exc.strerror}") from None
    cluster, problems = validate_text(text, str(path), env, extra_checks)
    if cluster is None:
        raise SpecError(problems)
    return LoadedClusterfile(path, cluster, [p for p in problems if p.severity == "warning"])
