"""The list of sub-command modules, in the order ``--help`` shows them."""

from __future__ import annotations

from types import ModuleType

ALL: tuple[ModuleType, ...] = ()
