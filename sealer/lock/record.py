"""The run lock's pure parts: the holder record, what one host's lock file means, the messages.

Nothing here touches a host; :mod:`sealer.lock.lease` gathers the facts over SSH and asks
these functions what they mean.
"""

from __future__ import annotations

import datetime as dt
import enum
import getpass
import json
import os
import secrets
import socket
from collections.abc import Sequence
from dataclasses import dataclass

from sealer.errors import LockHeld
from sealer.lock.timing import EXPIRY_SECONDS, HEARTBEAT_SECONDS

__all__ = [
    "EXPIRY_SECONDS",
    "HEARTBEAT_SECONDS",
    "Holder",
    "LockState",
    "Verdict",
    "held_error",
    "parse_age",
    "parse_holder",
    "seen_warning",
    "takeover_warning",
    "verdict",
]


_FIELDS = ("run_id", "user", "workstation", "pid", "command", "cluster", "started")


@dataclass(frozen=True)
class Holder:
    """Who holds (or wants) the lock: written as JSON into the lock file. No secrets."""

    run_id: str
    user: str
    workstation: str
    pid: int
    command: str
    cluster: str
    started: str  # UTC, ISO 8601

    @classmethod
    def new(cls, command: str, cluster: str, *, now: dt.datetime | None = None) -> Holder:
        """The record of this process, with a fresh random run id."""
        try:
            user = getpass.getuser()
        except (OSError, KeyError):  # no login name and no passwd entry
            user = str(os.getuid())
        when = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
        return cls(
            run_id=secrets.token_hex(8),
            user=user,
            workstation=socket.gethostname(),
            pid=os.getpid(),
            command=command,
            cluster=cluster,
            started=when.strftime("%Y-%m-%dT%H:%M:%SZ"),
        )

    def to_bytes(self) -> bytes:
        return (json.dumps({name: getattr(self, name) for name in _FIELDS}) + "\n").encode()

    @property
    def who(self) -> str:
        return f"{self.user}@{self.workstation}"

    def describe(self) -> str:
        """```apply` of cluster c1 by alice@laptop (pid 4242, run 0123abcd...)``."""
        return (
            f"`{self.command}` of cluster {self.cluster} by {self.who} "
            f"(pid {self.pid}, run {self.run_id})"
        )


def parse_holder(data: str | bytes) -> Holder | None:
    """The record in a lock file, or None when it is not one sealer wrote (or was cut short)."""
    try:
        raw = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(raw, dict):
        return None
    values = {name: raw.get(name) for name in _FIELDS}
    if not isinstance(values["pid"], int) or isinstance(values["pid"], bool):
        return None
    if not all(isinstance(values[name], str) for name in _FIELDS if name != "pid"):
        return None
    if not values["run_id"]:
        return None
    return Holder(**values)  # type: ignore[arg-type]


def parse_age(date_out: str, stat_out: str) -> float:
    """Seconds since the lock file was last touched, from ``date +%s`` and ``stat -c %Y`` run
    on the same host: the host's own clock, so the workstation's clock does not matter."""
    try:
        now, mtime = int(date_out.strip()), int(stat_out.strip())
    except ValueError:
        raise ValueError(f"unexpected clock output: {date_out!r}, {stat_out!r}") from None
    return float(max(0, now - mtime))


@dataclass(frozen=True)
class LockState:
    """One host's lock file as read: its text, the holder in it, the seconds since its last
    heartbeat (host clock)."""

    host: str
    text: str
    age: float

    @property
    def holder(self) -> Holder | None:
        return parse_holder(self.text)

    def describe(self) -> str:
        holder = self.holder
        who = holder.describe() if holder else "an unreadable lock record"
        since = f" since {holder.started}" if holder else ""
        return f"{who} on {self.host}{since}, last heartbeat {_ago(self.age)} ago"


class Verdict(enum.Enum):
    OURS = "ours"
    HELD = "held"  # by a live run: refuse
    EXPIRED = "expired"  # no heartbeat for the expiry time: take over with a warning
    BROKEN = "broken"  # --break-lock: take over at once with a warning


def verdict(state: LockState, run_id: str, *, expiry: float, break_lock: bool) -> Verdict:
    holder = state.holder
    if holder is not None and holder.run_id == run_id:
        return Verdict.OURS
    if state.age >= expiry:
        return Verdict.EXPIRED
    if break_lock:
        return Verdict.BROKEN
    return Verdict.HELD


def _ago(seconds: float) -> str:
    whole = int(seconds)
    if whole < 120:
        return f"{whole}s"
    minutes, rest = divmod(whole, 60)
    if minutes < 120:
        return f"{minutes}m{rest:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def held_error(state: LockState, cluster: str, *, expiry: float) -> LockHeld:
    """The refusal of a second run: who, where, what, since when, how to take over."""
    return LockHeld(
        state.host,
        f"cluster {cluster} is locked by another sealer run: {state.describe()} (host "
        f"clock). Nothing was changed. Wait for that run to finish; a lock whose run was "
        f"killed expires {_ago(expiry)} after its last heartbeat and the next run takes it "
        "over with a warning.",
        hint="if you are sure that run is dead, take the lock over now with --break-lock",
    )


def takeover_warning(state: LockState, how: Verdict, *, expiry: float) -> str:
    if how is Verdict.EXPIRED:
        why = f"it expired (no heartbeat for {_ago(expiry)} or more: that run is gone)"
    else:
        why = "--break-lock was given"
    return f"taking over the run lock of {state.describe()}: {why}"


def seen_warning(states: Sequence[LockState], *, expiry: float) -> list[str]:
    """What diff and apply --dry-run say about held locks (one line per holder)."""
    by_text: dict[str, list[LockState]] = {}
    for state in states:
        by_text.setdefault(state.text, []).append(state)
    lines = []
    for group in by_text.values():
        first = group[0]
        holder = first.holder
        who = holder.describe() if holder else "an unreadable lock record"
        since = f" since {holder.started}" if holder else ""
        hosts = ", ".join(s.host for s in group)
        age = min(s.age for s in group)
        expired = "expired, " if age >= expiry else ""
        lines.append(
            f"another run holds the run lock: {who} on {hosts}{since} ({expired}last heartbeat "
            f"{_ago(age)} ago); the live state may be changing while this reads it"
        )
    return lines
