"""Package attributes imported on first use (PEP 562).

A package ``__init__`` that re-exports names from its submodules would import them all at once;
with ``__getattr__ = lazy_exports(__name__, {"Name": "package.module", ...})`` each name is
imported when it is first read, so that a command needing one light module of the package does
not pay for the others (docs/benchmarks.md, Start-up). The names stay imported under
``TYPE_CHECKING`` in the ``__init__`` for mypy.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(package: str, homes: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` for ``package``: ``homes`` maps each name to its module."""
    table = MappingProxyType(dict(homes))

    def __getattr__(name: str) -> Any:
        home = table.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(home), name)

    return __getattr__
