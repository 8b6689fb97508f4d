"""Rendering of output and of every error, in one place."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from typing import Any

from rich.console import Console
from rich.markup import escape

from sealer.errors import SealerError, SpecError

__all__ = ["Ui", "render_error", "render_internal_error"]


@dataclass(frozen=True)
class Ui:
    """Where a command writes: data to ``out``, messages and errors to ``err``."""

    out: Console
    err: Console
    output: str = "text"  # "text" or "json"

    @classmethod
    def from_environment(cls, output: str = "text") -> Ui:
        no_color = bool(os.environ.get("NO_COLOR")) or output == "json"
        return cls(
            out=Console(file=sys.stdout, no_color=no_color, highlight=False, soft_wrap=True),
            err=Console(file=sys.stderr, no_color=no_color, highlight=False, soft_wrap=True),
            output=output,
        )

    @property
    def interactive(self) -> bool:
        return sys.stdin.isatty() and self.err.is_terminal

    def print_json(self, data: Any) -> None:
        self.out.file.write(json.dumps(data, indent=2, sort_keys=False) + "\n")
        self.out.file.flush()


def render_error(ui: Ui, exc: SealerError) -> None:
    if isinstance(exc, SpecError):
        for problem in exc.problems:
            colour = "red" if problem.severity == "error" else "yellow"
            ui.err.print(f"[{colour}]{problem.severity}[/{colour}]: {escape(str(problem))}")
        errors = sum(1 for p in exc.problems if p.severity == "error")
        ui.err.print(f"{errors} error{'s' if errors != 1 else ''} found")
        return
    ui.err.print(f"[red]error[/red]: {escape(exc.message)}")
    if exc.hint:
        ui.err.print(f"  hint: {escape(exc.hint)}")


def render_internal_error(ui: Ui, exc: BaseException) -> None:
    ui.err.print(
        f"[red]internal error[/red]: {escape(type(exc).__name__)}: {escape(str(exc))}. "
        "This is a bug in sealer; run again with SEALER_DEBUG=1 for the traceback and report it."
    )
