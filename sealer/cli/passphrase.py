"""``--passphrase-env VAR``: the passphrase of an encrypted backup, from the environment (never
from the command line, where `ps` and the shell history would show it)."""

from __future__ import annotations

import argparse
import os

from sealer.errors import UsageError

__all__ = ["add_passphrase_env", "passphrase_from_env"]


def add_passphrase_env(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument(
        "--passphrase-env",
        metavar="VAR",
        help=f"{what} with the passphrase held in the environment variable VAR "
        "(scrypt and AES-256-GCM, docs/operations.md)",
    )


def passphrase_from_env(args: argparse.Namespace) -> str | None:
    name: str | None = args.passphrase_env
    if name is None:
        return None
    value = os.environ.get(name)
    if not value:
        raise UsageError(
            f"--passphrase-env {name}: the environment variable {name} is not set or empty"
        )
    return value
