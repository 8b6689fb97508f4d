"""The list of the product's sub-command modules, in the order ``--help`` shows them (plugins'
sub-commands, such as ``lab``, come after them: :mod:`sealer.cli.plugins`)."""

from __future__ import annotations

from types import ModuleType

from sealer.cli import (
    cmd_apply,
    cmd_backup,
    cmd_certs,
    cmd_clean,
    cmd_config,
    cmd_diff,
    cmd_kubeconfig,
    cmd_restore,
    cmd_schema,
    cmd_status,
    cmd_validate,
)

ALL: tuple[ModuleType, ...] = (
    cmd_apply,
    cmd_diff,
    cmd_status,
    cmd_clean,
    cmd_certs,
    cmd_backup,
    cmd_restore,
    cmd_kubeconfig,
    cmd_validate,
    cmd_config,
    cmd_schema,
)
