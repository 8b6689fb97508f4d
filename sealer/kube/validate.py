"""Check a configuration document (or a patch of one) against the API types as data.

Every problem is collected; the error names the full path of the field, the type it belongs
to and, for an unknown field, the closest known name::

    spec.kubeadm.clusterConfiguration.apiServer.extraArgz: unknown field 'extraArgz' of
    ClusterConfiguration.apiServer (did you mean 'extraArgs'?)
"""

from __future__ import annotations

import difflib
import re
from typing import Any

from sealer.errors import KubeError
from sealer.kube.kubeadm_schema import Enum, ListOf, MapOf, Scalar, Struct, Type
from sealer.spec.load import yaml_type_name

__all__ = ["check_document", "problems_in", "type_name"]

# A Go time.Duration as metav1.Duration accepts it: "0", "90s", "1h30m", "1.5h", "4m0s".
_DURATION = re.compile(r"^-?(0|(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+)$")
_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
_QUANTITY = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+|[KMGTPE]i?|[mkMGTPE]|n|u)?$")
_INT32 = (-(2**31), 2**31 - 1)


def type_name(value: Any) -> str:
    """The YAML type of ``value`` as messages name it; a string also shows itself."""
    if isinstance(value, str):
        return f"a string {value!r}"
    return yaml_type_name(value)


def _is_arg_list(kind: Type) -> bool:
    return isinstance(kind, ListOf) and isinstance(kind.item, Struct) and kind.item.name == "Arg"


def _expected(kind: Type) -> str:
    if isinstance(kind, Scalar):
        return {
            "string": "a string",
            "integer": "an integer",
            "boolean": "a boolean (true/false)",
            "number": "a number",
            "duration": "a duration string such as '4m0s'",
            "time": "an RFC 3339 time string",
            "quantity": "a quantity such as '100Mi'",
        }.get(kind.kind, kind.kind)
    if isinstance(kind, Enum):
        return "one of " + ", ".join(repr(v) for v in kind.values)
    if isinstance(kind, ListOf):
        return "a list of {name, value}" if _is_arg_list(kind) else "a list"
    if isinstance(kind, MapOf):
        return "a mapping"
    return f"a mapping ({kind.name})"


def _hint(kind: Type, value: Any) -> str:
    if _is_arg_list(kind) and isinstance(value, dict):
        return " (kubeadm.k8s.io/v1beta4 takes a list of {name, value}; v1beta3 took a mapping)"
    if isinstance(kind, MapOf) and isinstance(value, list):
        return " (kubeadm.k8s.io/v1beta3 takes a mapping; v1beta4 takes a list of {name, value})"
    return ""


def _scalar_ok(kind: Scalar, value: Any) -> bool:
    if kind.kind == "any":
        return True
    if kind.kind == "string":
        return isinstance(value, str)
    if kind.kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind.kind == "boolean":
        return isinstance(value, bool)
    if kind.kind == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind.kind == "duration":
        return isinstance(value, str) and bool(_DURATION.match(value))
    if kind.kind == "time":
        return isinstance(value, str) and bool(_TIME.match(value))
    if kind.kind == "quantity":
        if isinstance(value, bool):
            return False
        return isinstance(value, int | float) or (
            isinstance(value, str) and bool(_QUANTITY.match(value))
        )
    return False  # pragma: no cover - every kind is listed above


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _walk(kind: Type, value: Any, path: str, owner: str, problems: list[str]) -> None:
    if value is None:  # null means "unset" for every optional field
        return
    if isinstance(kind, Scalar):
        if not _scalar_ok(kind, value):
            problems.append(f"{path}: expected {_expected(kind)}, got {type_name(value)}")
        elif kind.kind == "integer" and not _INT32[0] <= value <= _INT32[1] and _is_int32(path):
            problems.append(f"{path}: {value} does not fit in a 32-bit integer")
        return
    if isinstance(kind, Enum):
        if not isinstance(value, str) or value not in kind.values:
            problems.append(f"{path}: expected {_expected(kind)}, got {type_name(value)}")
        return
    if isinstance(kind, ListOf):
        if not isinstance(value, list):
            problems.append(
                f"{path}: expected {_expected(kind)}, got {type_name(value)}{_hint(kind, value)}"
            )
            return
        for index, item in enumerate(value):
            _walk(kind.item, item, f"{path}[{index}]", f"{owner}[]", problems)
        return
    if isinstance(kind, MapOf):
        if not isinstance(value, dict):
            problems.append(
                f"{path}: expected {_expected(kind)}, got {type_name(value)}{_hint(kind, value)}"
            )
            return
        for key, item in value.items():
            if not isinstance(key, str):
                problems.append(f"{path}: key {key!r} is not a string")
                continue
            _walk(kind.value, item, f'{path}["{key}"]', owner, problems)
        return
    if not isinstance(value, dict):
        problems.append(f"{path}: expected {_expected(kind)}, got {type_name(value)}")
        return
    for key, item in value.items():
        child_path = _join(path, str(key))
        if key not in kind.fields:
            known = list(kind.fields)
            close = difflib.get_close_matches(str(key), known, n=1, cutoff=0.6)
            if not close:
                lowered = {k.lower(): k for k in known}
                close = [lowered[str(key).lower()]] if str(key).lower() in lowered else []
            suggestion = f" (did you mean '{close[0]}'?)" if close else ""
            problems.append(f"{child_path}: unknown field '{key}' of {owner}{suggestion}")
            continue
        _walk(kind.fields[key], item, child_path, f"{owner}.{key}", problems)


def _is_int32(path: str) -> bool:
    # Every integer in these APIs is int32 except a few int64 kubelet fields.
    return not path.endswith(("podPidsLimit", "maxOpenFiles", "shutdownGracePeriodSeconds"))


def problems_in(kind: Struct, document: Any, path: str) -> list[str]:
    """Every problem in ``document`` checked as ``kind``; ``path`` prefixes each message."""
    problems: list[str] = []
    _walk(kind, document, path, kind.name, problems)
    return problems


def check_document(kind: Struct, document: Any, path: str) -> None:
    """Raise :class:`KubeError` listing every problem, one per line."""
    problems = problems_in(kind, document, path)
    if problems:
        raise KubeError("\n".join(problems))
