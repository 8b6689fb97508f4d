"""A fact: one read-only command plus a pure parser of its result.

Facts never change anything. :func:`collect` runs a fact on a host through a
:class:`~sealer.connect.Remote` (``Connections`` in a run), never raising on the exit status
itself: the parser decides what an exit status means, e.g. "missing file -> None". It turns
parser failures into :class:`FactError` naming the host, the fact and the command.
"""

from __future__ import annotations

import secrets
import shlex
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sealer.connect import HostAccess, Remote, Result
from sealer.connect.command import batch_argv, split_batch
from sealer.errors import CommandFailed, SealerError

__all__ = ["Fact", "FactError", "UnexpectedExit", "collect", "collect_many", "require_ok"]

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


async def collect(conns: Remote, host: HostAccess, fact: Fact[T]) -> T:
    """Run ``fact`` on ``host`` and parse it (ConnectError, CommandFailed or FactError)."""
    result = await conns.run(host, fact.argv, check=False, sudo=fact.sudo, timeout=fact.timeout)
    parsed: T = _parse(host, conns, fact, result)
    return parsed


def _parse(host: HostAccess, conns: Remote, fact: Fact[Any], result: Result) -> Any:
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


async def collect_many(conns: Remote, host: HostAccess, facts: Sequence[Fact[Any]]) -> list[Any]:
    """Run several facts on ``host`` in ONE remote command and parse each, in order.

    Each SSH command costs sshd a fork and a login shell; reading a host's dozen facts one
    command at a time made ``sealer diff`` several times slower than one command per host.
    The facts run one after another in a single ``sh -c`` (:func:`batch_argv`), each with its
    own stdout, stderr and exit status for its parser; they run with the host's sudo setting.
    """
    if not facts:
        return []
    marker = secrets.token_hex(12)
    argv = batch_argv([f.argv for f in facts], marker)
    timeout = max((f.timeout for f in facts if f.timeout is not None), default=None)
    raw = await conns.run(host, argv, check=False, timeout=timeout)
    frames = split_batch(raw.stdout, raw.stderr, marker, len(facts))
    if frames is None:
        redact = conns.redactor.redact
        raise CommandFailed(
            host.label,
            ["sh", "-c", f"<{len(facts)} facts>"],
            raw.exit_status,
            redact(raw.stdout[-2000:]),
            redact(raw.stderr[-2000:]),
        )
    return [
        _parse(host, conns, fact, Result(status, out, err))
        for fact, (status, out, err) in zip(facts, frames, strict=True)
    ]
