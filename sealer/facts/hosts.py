"""The sealer block of /etc/hosts: parse it, render it, put it back.

sealer owns only the lines between its two markers; everything else in the file is kept byte for
byte (comments, blank lines, CRLF endings, a missing final newline)::

    127.0.0.1 localhost
    # BEGIN sealer managed block
    10.0.0.10 apiserver.cluster.local
    # END sealer managed block
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sealer.facts.base import Fact, require_ok
from sealer.layout import HOSTS_FILE

__all__ = [
    "BEGIN_MARKER",
    "END_MARKER",
    "HostsEntry",
    "hosts_block",
    "parse_hosts_block",
    "remove_block",
    "render_hosts_block",
    "replace_block",
]

BEGIN_MARKER = "# BEGIN sealer managed block"
END_MARKER = "# END sealer managed block"


@dataclass(frozen=True)
class HostsEntry:
    address: str
    names: tuple[str, ...]

    def __post_init__(self) -> None:
        for item in (self.address, *self.names):
            if not item or any(c.isspace() for c in item) or "#" in item:
                raise ValueError(f"invalid /etc/hosts field {item!r}")
        if not self.names:
            raise ValueError(f"/etc/hosts entry for {self.address} has no names")


def _lines(text: str) -> list[str]:
    """Lines with their endings (only "\\n" splits; "\\r" stays part of the line)."""
    parts = text.split("\n")
    lines = [p + "\n" for p in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def _span(text: str) -> tuple[int, int] | None:
    """Character offsets [start, end) of the block including both marker lines."""
    offset = 0
    start: int | None = None
    for line in _lines(text):
        stripped = line.strip()
        if stripped == BEGIN_MARKER:
            if start is not None:
                raise ValueError(f"{HOSTS_FILE}: '{BEGIN_MARKER}' appears twice")
            start = offset
        elif stripped == END_MARKER:
            if start is None:
                raise ValueError(f"{HOSTS_FILE}: '{END_MARKER}' without a BEGIN marker")
            end = offset + len(line)
            if _span_after(text[end:]):
                raise ValueError(f"{HOSTS_FILE}: more than one sealer block")
            return start, end
        offset += len(line)
    if start is not None:
        raise ValueError(f"{HOSTS_FILE}: '{BEGIN_MARKER}' without an END marker")
    return None


def _span_after(rest: str) -> bool:
    return any(line.strip() in (BEGIN_MARKER, END_MARKER) for line in _lines(rest))


def parse_hosts_block(text: str) -> list[HostsEntry] | None:
    """The entries of the sealer block of an /etc/hosts text, or None when it has no block::

        127.0.0.1 localhost
        # BEGIN sealer managed block
        10.0.0.10 apiserver.cluster.local
        # END sealer managed block

    -> ``[HostsEntry("10.0.0.10", ("apiserver.cluster.local",))]``. A broken block (markers
    unbalanced, twice) raises ValueError: sealer will not guess which lines it owns.
    """
    span = _span(text)
    if span is None:
        return None
    inner = _lines(text[span[0] : span[1]])[1:-1]
    entries = []
    for line in inner:
        content = line.split("#", 1)[0].split()
        if content:
            entries.append(HostsEntry(content[0], tuple(content[1:])))
    return entries


def render_hosts_block(entries: Sequence[HostsEntry]) -> str:
    """The block for ``entries`` (markers included, "\\n" endings)."""
    body = "".join(f"{e.address} {' '.join(e.names)}\n" for e in entries)
    return f"{BEGIN_MARKER}\n{body}{END_MARKER}\n"


def replace_block(original: str, block: str) -> str:
    """``original`` with its sealer block replaced by ``block`` (appended when it has none).

    Everything outside the block is kept byte for byte; an empty ``block`` removes it.
    """
    span = _span(original)
    if span is not None:
        return original[: span[0]] + block + original[span[1] :]
    if not block:
        return original
    if original and not original.endswith("\n"):
        return original + "\n" + block
    return original + block


def remove_block(original: str) -> str:
    """``original`` without its sealer block."""
    return replace_block(original, "")


hosts_block: Fact[list[HostsEntry] | None] = Fact(
    "sealer block of /etc/hosts",
    ("cat", "--", HOSTS_FILE),
    lambda r: parse_hosts_block(require_ok(r)),
    sudo=False,
)
