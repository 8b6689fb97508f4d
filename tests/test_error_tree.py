"""The error tree drawn in sealer/errors.py names every SealerError and its real parent."""

from __future__ import annotations

import importlib
import pkgutil
import re

import sealer
from sealer import errors


def _all_subclasses(cls: type) -> set[type]:
    found = set()
    for sub in cls.__subclasses__():
        found |= {sub, *_all_subclasses(sub)}
    return found


def _drawn() -> dict[str, str]:
    """Class -> parent, from the indentation of the tree in the docstring."""
    parents: dict[str, str] = {}
    stack: list[tuple[int, str]] = []
    for line in (errors.__doc__ or "").splitlines():
        match = re.match(r"^    ([│├└─ ]*)([A-Z]\w+)\s", line)
        if match is None:
            continue
        depth, name = len(match.group(1)), match.group(2)
        while stack and stack[-1][0] >= depth:
            stack.pop()
        if stack:
            parents[name] = stack[-1][1]
        stack.append((depth, name))
    return parents


def test_every_sealer_error_is_in_the_tree_under_its_parent() -> None:
    for module in pkgutil.walk_packages(sealer.__path__, "sealer."):
        # __main__ runs the CLI
        if module.name != "sealer.__main__":
            importlib.import_module(module.name)
    drawn = _drawn()
    real = {cls.__name__: cls.__bases__[0].__name__ for cls in _all_subclasses(errors.SealerError)}
    assert drawn == real
