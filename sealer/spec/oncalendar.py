"""``spec.backup.schedule``: the systemd calendar events sealer accepts (pure, conservative).

systemd.time(7) accepts more than this; sealer accepts a subset whose meaning is plain and
that every systemd since 2015 parses the same way, in UTC: the shorthands (``hourly daily
weekly monthly quarterly semiannually yearly annually``) and ``[WEEKDAYS] [[YEAR-]MONTH-DAY]
HOUR:MINUTE[:SECOND]``, each component ``*``, a number, ``A..B``, ``A/STEP`` or ``*/STEP``, or
a comma list of those; weekdays as English names or their three-letter abbreviations, lists
and ``A..B`` ranges. ``minutely`` and a seconds field other than a number are refused: an etcd
snapshot more than once a minute is a mistake.
"""

from __future__ import annotations

import re

__all__ = ["check_calendar"]

SHORTHANDS = frozenset(
    ("hourly", "daily", "weekly", "monthly", "quarterly", "semiannually", "yearly", "annually")
)
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_LONG_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_DAY = re.compile(r"^[A-Za-z]+$")
HELP = (
    "use hourly, daily, weekly, monthly, or systemd's '[WEEKDAYS] [YYYY-MM-DD] HH:MM[:SS]' "
    "with *, numbers, A..B ranges, A/STEP or comma lists (UTC), e.g. '*-*-* 02:30' or "
    "'Mon..Fri 03:00'"
)


def _weekday(word: str) -> bool:
    low = word.lower()
    return bool(_DAY.match(word)) and (low in _DAYS or low in _LONG_DAYS)


def _weekdays_ok(word: str) -> bool:
    for part in word.split(","):
        a, dots, b = part.partition("..")
        if not _weekday(a) or (dots and not _weekday(b)):
            return False
    return True


def _component_ok(word: str, low: int, high: int) -> bool:
    for part in word.split(","):
        if part == "*":
            continue
        base, slash, step = part.partition("/")
        if slash:
            if not step.isdigit() or int(step) < 1 or int(step) > high:
                return False
            if base != "*" and not (base.isdigit() and low <= int(base) <= high):
                return False
            continue
        a, dots, b = part.partition("..")
        if not a.isdigit() or (dots and not b.isdigit()):
            return False
        first, last = int(a), int(b) if dots else int(a)
        if not (low <= first <= last <= high):
            return False
    return True


def check_calendar(text: str) -> str:
    """``text`` when sealer accepts it as ``OnCalendar=``, else ValueError saying why."""
    bad = ValueError(f"'{text}' is not a calendar event sealer accepts: {HELP}")
    words = text.split()
    if text != text.strip() or not words:
        raise bad
    if len(words) == 1 and words[0].lower() in SHORTHANDS:
        return text
    if words[-1] == "UTC":
        words = words[:-1]
    if words and _DAY.match(words[0].split(",")[0].split("..")[0]):
        if not _weekdays_ok(words[0]):
            raise bad
        words = words[1:]
    if not words or len(words) > 2 or ":" not in words[-1]:
        raise bad  # a time of day is required: a date alone would be midnight, say it
    date = words[0].split("-") if len(words) == 2 else ["*", "*", "*"]
    if len(date) == 2:
        date = ["*", *date]
    time_parts = words[-1].split(":")
    if len(time_parts) == 2:
        time_parts.append("00")
    if len(date) != 3 or len(time_parts) != 3 or not time_parts[2].isdigit():
        raise bad
    limits = (
        ("year", 1970, 2199),
        ("month", 1, 12),
        ("day", 1, 31),
        ("hour", 0, 23),
        ("minute", 0, 59),
        ("second", 0, 59),
    )
    for word, (name, low, high) in zip((*date, *time_parts), limits, strict=True):
        if not _component_ok(word, low, high):
            raise ValueError(
                f"'{text}' is not a calendar event sealer accepts: its {name} '{word}' is "
                f"not *, a number from {low} to {high}, A..B, A/STEP or a comma list of those"
            )
    return text
