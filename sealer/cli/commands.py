"""The list of sub-command modules, in the order ``--help`` shows them."""

from __future__ import annotations

from types import ModuleType

from sealer.cli import cmd_config, cmd_lab, cmd_schema, cmd_validate

ALL: tuple[ModuleType, ...] = (cmd_validate, cmd_schema, cmd_lab, cmd_config)
