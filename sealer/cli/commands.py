"""The list of sub-command modules, in the order ``--help`` shows them."""

from __future__ import annotations

from types import ModuleType

from sealer.cli import (
    cmd_apply,
    cmd_certs,
    cmd_clean,
    cmd_config,
    cmd_diff,
    cmd_lab,
    cmd_schema,
    cmd_validate,
)

ALL: tuple[ModuleType, ...] = (
    cmd_apply,
    cmd_diff,
    cmd_clean,
    cmd_certs,
    cmd_validate,
    cmd_config,
    cmd_schema,
    cmd_lab,
)
