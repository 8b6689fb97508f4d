"""The lab's block in /etc/hosts: its hosts' names resolve on the machine and on every host.

One block per lab, between markers naming the lab, so concurrent labs never touch each other's
lines, and distinct from sealer's own block (``# BEGIN sealer managed block``, which sealer
writes on the hosts and :mod:`sealer.facts.hosts` parses)::

    # BEGIN sealer-lab demo
    10.200.0.2	demo-master-1
    10.200.0.5	demo-node-1
    # END sealer-lab demo

``set_block``/``remove_block`` are pure (text in, text out): every line outside the lab's own
block is kept byte for byte, and running either twice gives the same text. ``update_file``
rewrites a file atomically (a temporary file beside it, then rename) under a machine-wide lock,
so two labs going up at once cannot lose each other's block.
"""

from __future__ import annotations

import errno
import fcntl
import os
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from sealer.errors import LabError

__all__ = [
    "LOCK_PATH",
    "WORKSTATION_HOSTS",
    "begin_marker",
    "end_marker",
    "lab_blocks",
    "remove_block",
    "render_block",
    "set_block",
    "update_file",
]

WORKSTATION_HOSTS = Path("/etc/hosts")
LOCK_PATH = Path("/run/sealer-lab-hosts.lock")
_BEGIN = "# BEGIN sealer-lab "
_END = "# END sealer-lab "
_FIELD = re.compile(r"[^\s#]+")

Entry = tuple[str, str]  # (address, name)


def begin_marker(lab: str) -> str:
    return _BEGIN + lab


def end_marker(lab: str) -> str:
    return _END + lab


def render_block(lab: str, entries: Sequence[Entry]) -> str:
    """The block's text, markers included, one ``ADDRESS<TAB>NAME`` line per entry."""
    lines = [begin_marker(lab)]
    for address, name in entries:
        if not _FIELD.fullmatch(address) or not _FIELD.fullmatch(name):
            raise LabError(f"/etc/hosts entry {address!r} {name!r}: not a single field each")
        lines.append(f"{address}\t{name}")
    lines.append(end_marker(lab))
    return "\n".join(lines) + "\n"


def _lines(text: str) -> list[str]:
    """Lines with their endings; only "\\n" ends a line (as for the resolver)."""
    parts = text.split("\n")
    return [p + "\n" for p in parts[:-1]] + ([parts[-1]] if parts[-1] else [])


def _span(lines: Sequence[str], lab: str) -> tuple[int, int] | None:
    """[start, end) line indexes of ``lab``'s block, markers included."""
    begin, end = begin_marker(lab), end_marker(lab)
    start: int | None = None
    for i, line in enumerate(lines):
        stripped = line.strip()
        if stripped == begin and start is None:
            start = i
        elif stripped == end and start is not None:
            return start, i + 1
    if start is not None:
        raise LabError(
            f"/etc/hosts: '{begin}' has no '{end}' after it",
            hint="remove the lab's lines by hand, or end the block with that marker",
        )
    return None


def remove_block(text: str, lab: str) -> str:
    """``text`` without ``lab``'s block (every other line as it was)."""
    lines = _lines(text)
    span = _span(lines, lab)
    while span is not None:
        del lines[span[0] : span[1]]
        span = _span(lines, lab)
    return "".join(lines)


def set_block(text: str, lab: str, entries: Sequence[Entry]) -> str:
    """``text`` with ``lab``'s block holding ``entries``: replaced where it is, else appended."""
    block = render_block(lab, entries)
    lines = _lines(text)
    span = _span(lines, lab)
    if span is None:
        prefix = "".join(lines)
        if prefix and not prefix.endswith("\n"):
            prefix += "\n"
        return prefix + block
    rest = remove_block("".join(lines[span[1] :]), lab)  # a second copy would shadow nothing
    return "".join(lines[: span[0]]) + block + rest


def lab_blocks(text: str) -> list[str]:
    """The names of the labs that have a block in ``text``."""
    return [
        line.strip().removeprefix(_BEGIN)
        for line in _lines(text)
        if line.strip().startswith(_BEGIN)
    ]


@contextmanager
def _locked(lock: Path) -> Iterator[None]:
    lock.parent.mkdir(parents=True, exist_ok=True)
    with lock.open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def update_file(path: Path, edit: Callable[[str], str], lock: Path = LOCK_PATH) -> bool:
    """Apply ``edit`` to the file's text and write the result atomically when it differs (mode
    and owner kept); under the machine-wide ``lock``. True when the file changed."""
    with _locked(lock):
        try:
            old = path.read_text()
            st: os.stat_result | None = path.stat()
        except FileNotFoundError:
            old, st = "", None
        new = edit(old)
        if new == old:
            return False
        tmp = path.with_name(f".{path.name}.sealer-lab.{os.getpid()}")
        try:
            with tmp.open("w") as fh:
                fh.write(new)
                fh.flush()
                os.fsync(fh.fileno())
            if st is not None:
                os.chmod(tmp, st.st_mode & 0o7777)
                os.chown(tmp, st.st_uid, st.st_gid)
            else:
                os.chmod(tmp, 0o644)
            try:
                os.replace(tmp, path)
            except OSError as exc:  # a bind-mounted file (a container's /etc/hosts): in place
                if exc.errno not in (errno.EBUSY, errno.EXDEV):
                    raise
                path.write_text(new)
        finally:
            tmp.unlink(missing_ok=True)
        return True
