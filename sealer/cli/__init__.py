"""Command-line interface: the only package of the product that imports rich.

Each command lives in its own module with ``register(subparsers)``, which adds the sub-command
and sets ``handler`` to a function ``(args, ui) -> int``. Other packages add sub-commands the
same way as plugins (``sealer lab``, see :mod:`sealer.cli.plugins`). Errors are rendered in one
place, :func:`sealer.cli.render.render_error`.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Collection, Sequence
from typing import NoReturn, cast

from rich.markup import escape

from sealer import __version__
from sealer.cli import commands, plugins
from sealer.cli.render import Ui, render_error, render_internal_error
from sealer.errors import SealerError, UsageError

__all__ = ["build_parser", "main", "needs_plugins"]


class _Parser(argparse.ArgumentParser):
    """argparse that raises UsageError (exit 1, one paragraph) instead of exiting with 2."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message}", hint=f"see `{self.prog} --help`")


def _product_parser() -> tuple[
    argparse.ArgumentParser, argparse._SubParsersAction[argparse.ArgumentParser]
]:
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
    return parser, cast("argparse._SubParsersAction[argparse.ArgumentParser]", sub)


def _add_plugins(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
    registrars: Sequence[plugins.Registrar],
    warn: Callable[[str], None] | None,
) -> None:
    for register in registrars:
        try:
            register(sub)
        except Exception as exc:  # a broken plugin must not break the product's commands
            if warn is not None:
                warn(f"plugin {register.__module__} not registered: {type(exc).__name__}: {exc}")


def build_parser(
    registrars: Sequence[plugins.Registrar] = (),
    warn: Callable[[str], None] | None = None,
) -> argparse.ArgumentParser:
    """The product's commands, then the plugins' (``registrars``; a plugin whose registration
    fails is left out and reported to ``warn``)."""
    parser, sub = _product_parser()
    _add_plugins(sub, registrars, warn)
    return parser


def needs_plugins(argv: Sequence[str], product_commands: Collection[str]) -> bool:
    """Whether parsing ``argv`` can involve a plugin's sub-command: not when its first word is
    one of the product's commands, nor for a bare ``--version``. Plugins are found through
    importlib.metadata (tens of ms), so the product's own commands start without it
    (docs/benchmarks.md, Start-up); ``--help``, an unknown word or no command find them."""
    if list(argv) == ["--version"]:
        return False
    first = next((word for word in argv if not word.startswith("-")), None)
    return first is None or first not in product_commands


def _warn(ui: Ui) -> Callable[[str], None]:
    def warn(message: str) -> None:
        ui.err.print(f"[yellow]warning[/yellow]: {escape(message)}")

    return warn


#: pydantic looks for plugins of its own by reading every installed distribution's entry points
#: when it builds the first model (tens of ms at start-up, more on a workstation with many
#: packages). sealer validates its own files and wants no third-party hook in that validation,
#: so its process turns them off unless the user set the variable (docs/architecture.md).
PYDANTIC_PLUGINS_ENV = "PYDANTIC_DISABLE_PLUGINS"


def main(argv: Sequence[str] | None = None) -> int:
    os.environ.setdefault(PYDANTIC_PLUGINS_ENV, "__all__")
    ui = Ui.from_environment()
    words = sys.argv[1:] if argv is None else list(argv)
    try:
        parser, sub = _product_parser()
        if needs_plugins(words, sub.choices):
            registrars, warnings = plugins.load(plugins.discover())
            for message in warnings:
                _warn(ui)(message)
            _add_plugins(sub, registrars, _warn(ui))
        args = parser.parse_args(words)
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
