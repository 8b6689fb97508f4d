"""Sub-commands that other packages add to ``sealer`` (plugins), e.g. ``sealer lab``.

A plugin is a function ``register(subparsers) -> None`` that adds one sub-command the way the
product's own ``cmd_*`` modules do (a parser whose ``handler`` is ``(args, ui) -> int``). The
product names no plugin: it finds them

* in the ``sealer.commands`` entry point group of the installed distributions (pyproject.toml:
  ``[project.entry-points."sealer.commands"] lab = "sealer_lab.cli:register"``), and
* in the environment variable ``SEALER_PLUGINS``: ``module:function`` specs separated by commas,
  for code run from a source tree (``PYTHONPATH=.``), where no entry point exists. The tests set
  it (tests/conftest.py); as ``PYTEST_PLUGINS`` does for pytest.

A spec found both ways is loaded once. A plugin that cannot be loaded (its package is not
importable, its function fails) is left out with a warning: the product's own commands never
depend on a plugin.
"""

from __future__ import annotations

import argparse
import importlib
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

__all__ = ["ENV", "GROUP", "Plugin", "Registrar", "discover", "load", "parse_env"]

GROUP = "sealer.commands"
ENV = "SEALER_PLUGINS"

Registrar = Callable[["argparse._SubParsersAction[argparse.ArgumentParser]"], None]


@dataclass(frozen=True)
class Plugin:
    """One plugin: where it was found (``name``) and its ``module:function`` spec."""

    name: str
    spec: str


def parse_env(value: str) -> list[Plugin]:
    """The plugins named by a ``SEALER_PLUGINS`` value (``mod.a:fn,mod.b:fn``)."""
    return [Plugin(ENV, spec.strip()) for spec in value.split(",") if spec.strip()]


def discover(environ: Mapping[str, str] | None = None) -> list[Plugin]:
    """Entry points of :data:`GROUP`, then ``SEALER_PLUGINS``; each spec once, in that order."""
    from importlib.metadata import entry_points  # tens of ms: only when plugins are needed

    env = os.environ if environ is None else environ
    found = [Plugin(ep.name, ep.value) for ep in entry_points(group=GROUP)]
    found += parse_env(env.get(ENV, ""))
    seen: set[str] = set()
    unique: list[Plugin] = []
    for plugin in found:
        if plugin.spec not in seen:
            seen.add(plugin.spec)
            unique.append(plugin)
    return unique


def _resolve(spec: str) -> Registrar:
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise ValueError(f"{spec!r} is not MODULE:FUNCTION")
    target: object = importlib.import_module(module_name)
    for part in attr.split("."):
        target = getattr(target, part)
    if not callable(target):
        raise TypeError(f"{spec} is not callable")
    registrar: Registrar = target
    return registrar


def load(plugins: Sequence[Plugin]) -> tuple[list[Registrar], list[str]]:
    """(registrars, warnings): each plugin's function, or one line saying why it was left out."""
    registrars: list[Registrar] = []
    warnings: list[str] = []
    for plugin in plugins:
        try:
            registrars.append(_resolve(plugin.spec))
        except Exception as exc:  # a broken plugin must not break the product's commands
            warnings.append(
                f"plugin {plugin.name} ({plugin.spec}) not loaded: {type(exc).__name__}: {exc}"
            )
    return registrars, warnings
