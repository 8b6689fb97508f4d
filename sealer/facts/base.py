"""A fact: one read-only command plus a pure parser of its result.

Facts never change anything. :func:`collect` runs a fact on a host through
:class:`~sealer.connect.Connections` (never raising on the exit status itself: the parser decides
what an exit status means, e.g. "missing file -> None") and turns parser failures into
:class:`FactError` naming the host, the fact and the command.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from sealer.connect import Connections, HostAccess, Result
from sealer.errors import CommandFailed, SealerError

__all__ = ["Fact", "FactError", "UnexpectedExit", "collect", "require_ok"]

T = TypeVar("T")


class FactError(SealerError):
    """A fact's output could not be understood (an unexpected tool version or a broken file)."""

    def __init__(self, host: str, fact: str, argv: tuple[str, ...], message: str) -> None:
        super().__init__(f"{host}: cannot read {fact} from `{shlex.join(argv)}`: {message}")
        self.host = host
        self.fact = fact


class UnexpectedExit(Exception):
    """Raised by parsers for an exit status they do not expect; becomes CommandFailed."""

    def __init__(self, result: Result) -> None:
        super().__init__(f"exit status {result.exit_status}")
        self.result = result


def require_ok(result: Result) -> str:
    """``result.stdout`` when the command succeeded, else raise :class:`UnexpectedExit`."""
    if result.exit_status != 0:
        raise UnexpectedExit(result)
    return result.stdout


def command_missing(result: Result) -> bool:
    """True when the program does not exist on the host (shell: 127; sudo: 1 + message)."""
    return result.exit_status == 127 or (
        result.exit_status == 1 and "command not found" in result.stderr
    )


@dataclass(frozen=True)
class Fact(Generic[T]):
    """``argv`` run on a host, ``parse`` turning its :class:`~sealer.connect.Result` into T."""

    name: str
    argv: tuple[str, ...]
    parse: Callable[[Result], T]
    sudo: bool | None = None
    timeout: float | None = 120.0


async def collect(conns: Connections, host: HostAccess, fact: Fact[T]) -> T:
    """Run ``fact`` on ``host`` and parse it (ConnectError, CommandFailed or FactError)."""
    result = await conns.run(host, fact.argv, check=False, sudo=fact.sudo, timeout=fact.timeout)
    try:
        return fact.parse(result)
    except UnexpectedExit as exc:
        r = exc.result
        redact = conns.redactor.redact
        raise CommandFailed(
            host.label, list(fact.argv), r.exit_status, redact(r.stdout), redact(r.stderr)
        ) from None
    except (ValueError, KeyError, TypeError, IndexError) as exc:
        raise FactError(host.label, fact.name, fact.argv, str(exc) or type(exc).__name__) from None
