"""systemd calendar events (``OnCalendar=``, systemd.time(7)): parse and find the next elapse.

The subset the lab honours, in UTC: the shorthands (``minutely hourly daily weekly monthly
yearly annually quarterly semiannually``) and ``[WEEKDAYS] [[YEAR-]MONTH-DAY] [HOUR:MINUTE[:
SECOND]] [UTC]``, where each component is ``*``, a number, ``A..B`` or ``A/STEP``/``*/STEP``
(a comma list of those) and weekdays are English names or abbreviations, ranges with ``..``.
A date alone means midnight; a time alone means every day. What systemd refuses is refused
here with its message (``Failed to parse calendar specification``); what it accepts beyond this
subset (``~`` for the last days of a month, fractional seconds, time zones other than UTC) is
refused too, saying so: the lab is stricter, never looser.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

__all__ = ["CalendarError", "CalendarSpec", "next_elapse", "parse_calendar"]


class CalendarError(ValueError):
    """Not a calendar specification (the message is systemd's)."""


SHORTHANDS = {
    "minutely": "*-*-* *:*:00",
    "hourly": "*-*-* *:00:00",
    "daily": "*-*-* 00:00:00",
    "weekly": "Mon *-*-* 00:00:00",
    "monthly": "*-*-01 00:00:00",
    "yearly": "*-01-01 00:00:00",
    "annually": "*-01-01 00:00:00",
    "quarterly": "*-01,04,07,10-01 00:00:00",
    "semiannually": "*-01,07-01 00:00:00",
}
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_NAMES = {d: i for i, d in enumerate(_DAYS)} | {
    n: i
    for i, n in enumerate(
        ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
    )
}


@dataclass(frozen=True)
class CalendarSpec:
    """The values each component may take (a set per component)."""

    text: str
    weekdays: frozenset[int]  # 0 = Monday
    years: frozenset[int]
    months: frozenset[int]
    days: frozenset[int]
    hours: frozenset[int]
    minutes: frozenset[int]
    seconds: frozenset[int]


def _bad(text: str, why: str = "") -> CalendarError:
    extra = f" ({why})" if why else ""
    return CalendarError(f"Failed to parse calendar specification, ignoring: {text}{extra}")


def _component(word: str, low: int, high: int, text: str) -> frozenset[int]:
    values: set[int] = set()
    for part in word.split(","):
        step = 1
        if "/" in part:
            part, _, step_text = part.partition("/")
            if not step_text.isdigit() or int(step_text) == 0:
                raise _bad(text)
            step = int(step_text)
            start_text = part
            if start_text == "*":
                start, end = low, high
            elif start_text.isdigit():
                start, end = int(start_text), high
            else:
                raise _bad(text)
        elif part == "*":
            start, end = low, high
        elif ".." in part:
            a, _, b = part.partition("..")
            if not (a.isdigit() and b.isdigit()):
                raise _bad(text)
            start, end = int(a), int(b)
        elif part.isdigit():
            start = end = int(part)
        elif part.startswith("~") or "." in part:
            raise _bad(text, "not supported by the lab")
        else:
            raise _bad(text)
        if not (low <= start <= high and low <= end <= high) or start > end:
            raise _bad(text)
        values.update(range(start, end + 1, step))
    return frozenset(values)


def _weekdays(word: str, text: str) -> frozenset[int]:
    out: set[int] = set()
    for part in word.split(","):
        a, dots, b = part.partition("..")
        first = _DAY_NAMES.get(a.lower())
        last = _DAY_NAMES.get(b.lower()) if dots else first
        if first is None or last is None:
            raise _bad(text)
        if first <= last:
            out.update(range(first, last + 1))
        else:  # Sat..Mon wraps as systemd does
            out.update(range(first, 7))
            out.update(range(0, last + 1))
    return frozenset(out)


def parse_calendar(text: str) -> CalendarSpec:
    """One ``OnCalendar=`` value; :class:`CalendarError` when systemd (or the lab) refuses."""
    words = text.strip().split()
    if not words:
        raise _bad(text)
    if len(words) == 1 and words[0].lower() in SHORTHANDS:
        words = SHORTHANDS[words[0].lower()].split()
    if words[-1] == "UTC":
        words = words[:-1]
    if not words:
        raise _bad(text)
    weekdays = frozenset(range(7))
    if words[0][:1].isalpha():
        weekdays = _weekdays(words[0], text)
        words = words[1:]
    date_word, time_word = "*-*-*", "00:00:00"
    if len(words) == 2:
        date_word, time_word = words
    elif len(words) == 1:
        if ":" in words[0]:
            time_word = words[0]
        else:
            date_word = words[0]
    elif len(words) > 2 or (len(words) == 0 and weekdays == frozenset(range(7))):
        raise _bad(text)
    if "-" not in date_word or ":" in date_word or ":" not in time_word:
        raise _bad(text)
    date_parts = date_word.split("-")
    if len(date_parts) == 2:
        date_parts = ["*", *date_parts]
    time_parts = time_word.split(":")
    if len(time_parts) == 2:
        time_parts.append("00")
    if len(date_parts) != 3 or len(time_parts) != 3:
        raise _bad(text)
    return CalendarSpec(
        text=text,
        weekdays=weekdays,
        years=_component(date_parts[0], 1970, 2199, text),
        months=_component(date_parts[1], 1, 12, text),
        days=_component(date_parts[2], 1, 31, text),
        hours=_component(time_parts[0], 0, 23, text),
        minutes=_component(time_parts[1], 0, 59, text),
        seconds=_component(time_parts[2], 0, 59, text),
    )


def next_elapse(spec: CalendarSpec, after: dt.datetime) -> dt.datetime | None:
    """The first time strictly after ``after`` (aware, UTC) that ``spec`` matches; None when
    none comes before 2200 (as systemd's "never")."""
    after = after.astimezone(dt.UTC).replace(microsecond=0)
    day = after.date()
    for _ in range(366 * 8):  # every combination repeats within 8 years (Feb 29 and weekdays)
        if (
            day.year in spec.years
            and day.month in spec.months
            and day.day in spec.days
            and day.weekday() in spec.weekdays
        ):
            for h in sorted(spec.hours):
                for m in sorted(spec.minutes):
                    for s in sorted(spec.seconds):
                        when = dt.datetime(day.year, day.month, day.day, h, m, s, tzinfo=dt.UTC)
                        if when > after:
                            return when
        day += dt.timedelta(days=1)
        if day.year > 2199:
            return None
    return None
