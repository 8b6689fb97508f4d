"""``${VAR}`` references in secret fields (``password``, ``passphrase``).

Only these fields are expanded, so that a ``$`` elsewhere is never surprising. ``$$`` stands
for a literal ``$``. An undefined variable is a problem reported at the value's position.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["SECRET_KEYS", "expand_secrets"]

SECRET_KEYS = frozenset({"password", "passphrase"})
_REF = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$\{([^}]*)\}?")

PathT = tuple[str | int, ...]


def _expand(text: str, env: Mapping[str, str], missing: list[str]) -> str:
    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group(1)
        if name is None:
            # never echo the text: it is part of a secret (write $$ for a literal $)
            missing.append("'${' starts no valid ${VAR} reference (write $$ for a literal $)")
            return ""
        if name not in env:
            missing.append(f"environment variable {name} is not set")
            return ""
        return env[name]

    return _REF.sub(replace, text)


def expand_secrets(
    data: Any, env: Mapping[str, str], report: Callable[[PathT, str], None], path: PathT = ()
) -> Any:
    """Return ``data`` with secret fields expanded; call ``report`` for each undefined one."""
    if isinstance(data, dict):
        result = {}
        for key, value in data.items():
            child = (*path, key)
            if key in SECRET_KEYS and isinstance(value, str):
                missing: list[str] = []
                result[key] = _expand(value, env, missing)
                for message in missing:
                    report(child, message)
            else:
                result[key] = expand_secrets(value, env, report, child)
        return result
    if isinstance(data, list):
        return [expand_secrets(item, env, report, (*path, i)) for i, item in enumerate(data)]
    return data
