"""Command-line interface: the only package that imports rich.

Each command lives in its own module with ``register(subparsers)``, which adds the sub-command
and sets ``handler`` to a function ``(args, ui) -> int``. Errors are rendered in one place,
:func:`sealer.cli.render.render_error`.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from sealer import __version__
from sealer.cli import commands
from sealer.cli.render import Ui, render_error, render_internal_error
from sealer.errors import SealerError, UsageError

__all__ = ["build_parser", "main"]


class _Parser(argparse.ArgumentParser):
    """argparse that raises UsageError (exit 1, one paragraph) instead of exiting with 2."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message}", hint=f"see `{self.prog} --help`")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="sealer",
        description=(
            "Install and keep in shape a highly-available Kubernetes cluster on plain Linux "
            "machines over SSH, from one declarative Clusterfile."
        ),
    )
    parser.add_argument("--version", action="version", version=f"sealer {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for module in commands.ALL:
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    ui = Ui.from_environment()
    try:
        args = build_parser().parse_args(argv)
        ui = Ui.from_environment(output=getattr(args, "output", "text"))
        code: int = args.handler(args, ui)
        return code
    except SealerError as exc:
        render_error(ui, exc)
        return exc.exit_code
    except KeyboardInterrupt:
        ui.err.print("[yellow]interrupted[/yellow]")
        return 130
    except Exception as exc:  # a bug: say so plainly, traceback only on request
        if os.environ.get("SEALER_DEBUG"):
            raise
        render_internal_error(ui, exc)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
