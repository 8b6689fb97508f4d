"""spec.backup.schedule: the calendar events sealer accepts, and that the lab's systemd (which
refuses what systemd refuses) reads every one of them."""

from __future__ import annotations

import pytest

from sealer.spec.oncalendar import check_calendar
from sealer_lab.emulate.oncalendar import parse_calendar

ACCEPTED = [
    "daily", "hourly", "weekly", "monthly", "quarterly", "semiannually", "yearly", "annually",
    "*-*-* 02:30", "*-*-* 02:30:00", "02:30", "*:0/15", "*-*-* 0/6:00:00", "Mon..Fri 03:00",
    "Sat,Sun 12:00", "Monday *-*-* 01:00", "*-*-01,15 04:00 UTC", "2027-01-01 00:00",
    "*-02-29 00:00:00", "Mon,Wed..Fri *-*-* 23:59:59",
]  # fmt: skip
REFUSED = [
    "", " daily", "minutely", "every night", "25:00", "*-13-01 00:00", "*-*-* 24:00",
    "*-*-32 00:00", "Funday 00:00", "*:*:*", "*:*:0/5", "2027-01-01", "*-*-* 00:00 Europe/Paris",
    "*-*~01 00:00", "*-*-* 00:00:00.5", "5..3:00", "*:0/0", "Mon..",
]  # fmt: skip


@pytest.mark.parametrize("spec", ACCEPTED)
def test_accepted_by_sealer_and_by_the_labs_systemd(spec: str) -> None:
    assert check_calendar(spec) == spec
    parse_calendar(spec)  # the lab refuses what systemd refuses: it must not refuse these


@pytest.mark.parametrize("spec", REFUSED)
def test_refused_with_what_sealer_accepts(spec: str) -> None:
    with pytest.raises(ValueError, match="is not a calendar event sealer accepts"):
        check_calendar(spec)
