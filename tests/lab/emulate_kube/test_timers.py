"""The emulated systemd's timers and Type=oneshot services, on this machine (unit, state and
run directories given by env): calendar events as systemd.time(7) reads them, timer units
refused as systemd refuses them, and a timer that really starts its service."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from sealer_lab.emulate import oncalendar, timerd, units
from tests.waiting import wait_for

UTC = dt.UTC


def _at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("spec", "after", "expected"),
    [
        ("daily", "2026-12-02T08:10:00", "2026-12-03T00:00:00"),
        ("hourly", "2026-12-02T08:10:00", "2026-12-02T09:00:00"),
        ("weekly", "2026-12-02T08:10:00", "2026-12-07T00:00:00"),  # the next Monday
        ("monthly", "2026-12-02T08:10:00", "2027-01-01T00:00:00"),
        ("quarterly", "2026-05-02T00:00:00", "2026-07-01T00:00:00"),
        ("*-*-* 02:30", "2026-12-02T02:30:00", "2026-12-03T02:30:00"),  # strictly after
        ("*-*-* 02:30", "2026-12-02T02:29:59", "2026-12-02T02:30:00"),
        ("Mon..Fri *-*-* 03:00:00", "2026-12-04T04:00:00", "2026-12-07T03:00:00"),
        ("Sat,Sun 12:00", "2026-12-02T00:00:00", "2026-12-05T12:00:00"),
        ("*:0/15", "2026-12-02T08:10:00", "2026-12-02T08:15:00"),
        ("*-*-* 0/6:00:00", "2026-12-02T07:00:00", "2026-12-02T12:00:00"),
        ("*-02-29 00:00:00", "2026-03-01T00:00:00", "2028-02-29T00:00:00"),
        ("2027-01-01", "2026-12-02T00:00:00", "2027-01-01T00:00:00"),
        ("*-*-01,15 04:00 UTC", "2026-12-02T00:00:00", "2026-12-15T04:00:00"),
    ],
)
def test_next_elapse_of_calendar_events(spec: str, after: str, expected: str) -> None:
    assert oncalendar.next_elapse(oncalendar.parse_calendar(spec), _at(after)) == _at(expected)


@pytest.mark.parametrize(
    "spec",
    ["", "daily2", "25:00", "*-13-01", "*-*-* 24:00:00", "*-*-32", "Mon *-*-* 1:60",
     "Funday 00:00", "*-*-* *:*/0", "1..x:00", "*-*-* 00:00:00 extra", "5..3:00"],
)  # fmt: skip
def test_calendar_events_systemd_refuses(spec: str) -> None:
    with pytest.raises(oncalendar.CalendarError, match="Failed to parse calendar specification"):
        oncalendar.parse_calendar(spec)


@pytest.mark.parametrize("spec", ["*-*~01", "*-*-* 00:00:00.5", "*-*-* 00:00 Europe/Paris"])
def test_what_systemd_accepts_beyond_the_lab_is_refused_saying_so(spec: str) -> None:
    with pytest.raises(oncalendar.CalendarError):
        oncalendar.parse_calendar(spec)


def test_timer_units_are_refused_as_systemd_refuses_them(tmp_path: Path) -> None:
    (tmp_path / "none.timer").write_text("[Timer]\nPersistent=true\n")
    with pytest.raises(units.TimerError, match=r"Timer unit lacks value setting\. Refusing\."):
        units.load_timer("none.timer", tmp_path)
    (tmp_path / "bad.timer").write_text("[Timer]\nOnCalendar=daily at noon\n")
    with pytest.raises(units.TimerError, match="lacks value setting"):
        units.load_timer("bad.timer", tmp_path)
    (tmp_path / "half.timer").write_text(
        "[Timer]\nOnCalendar=nope\nOnCalendar=daily\nOnBootSec=1h 30min\nUnit=x.service\n"
        "[Install]\nWantedBy=timers.target\n"
    )
    half = units.load_timer("half.timer", tmp_path)
    assert half.on_calendar == ("daily",) and half.on_boot_sec == (5400.0,)
    assert half.unit == "x.service" and half.wanted_by == ("timers.target",)
    assert any("Failed to parse calendar specification, ignoring: nope" in w for w in half.warnings)
    (tmp_path / "plain.timer").write_text("[Timer]\nOnUnitActiveSec=15min\n")
    assert units.load_timer("plain.timer", tmp_path).unit == "plain.service"


def test_next_elapse_of_monotonic_spans() -> None:
    timer = units.Timer(
        name="t.timer", path="", unit="t.service", on_boot_sec=(60.0,), on_unit_active_sec=(30.0,)
    )
    assert timerd.next_elapse(timer, now=1000.0, started=990.0, boot=980.0, last=None) == 1040.0
    # the boot span has elapsed (last after it): only the unit-active span is left
    assert timerd.next_elapse(timer, now=1050.0, started=990.0, boot=980.0, last=1045.0) == 1075.0


# -- the emulated systemctl, on this machine ----------------------------------------------------


@pytest.fixture
def sd(tmp_path: Path) -> Iterator[tuple[Path, dict[str, str]]]:
    unit_dir = tmp_path / "units"
    unit_dir.mkdir()
    env = {
        **os.environ,
        "SEALER_SYSTEMD_UNITS": str(unit_dir),
        "SEALER_SYSTEMD_RUN": str(tmp_path / "run"),
        "SEALER_SYSTEMD_STATE": str(tmp_path / "state"),
    }
    yield unit_dir, env
    for unit in ("job.timer", "job.service"):
        _ctl(env, "stop", unit)


def _ctl(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sealer_lab.emulate.systemctl", *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def _job(unit_dir: Path, out: Path, *, fail: bool = False) -> None:
    command = f"/bin/sh -c 'date +%s%N >> {out}; exit {1 if fail else 0}'"
    (unit_dir / "job.service").write_text(
        f"[Unit]\nDescription=job\n[Service]\nType=oneshot\nExecStart={command}\n"
    )


def test_oneshot_start_returns_when_the_service_has_run(
    sd: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    unit_dir, env = sd
    out = tmp_path / "out"
    _job(unit_dir, out)
    assert _ctl(env, "start", "job.service").returncode == 0
    assert len(out.read_text().splitlines()) == 1  # it ran before start returned
    assert _ctl(env, "is-active", "job.service").stdout.strip() == "inactive"
    _job(unit_dir, out, fail=True)
    _ctl(env, "daemon-reload")
    failed = _ctl(env, "start", "job.service")
    assert failed.returncode == 1
    assert "Job for job.service failed because the control process exited" in failed.stderr
    assert _ctl(env, "is-active", "job.service").stdout.strip() == "failed"
    (unit_dir / "job.service").write_text(
        "[Service]\nType=oneshot\nRestart=always\nExecStart=/bin/true\n"
    )
    _ctl(env, "daemon-reload")
    refused = _ctl(env, "start", "job.service")
    assert refused.returncode == 1 and "isn't allowed for Type=oneshot" in refused.stderr


def test_timer_enable_now_waits_elapses_on_the_hook_and_stops(
    sd: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    unit_dir, env = sd
    out = tmp_path / "out"
    _job(unit_dir, out)
    (unit_dir / "job.timer").write_text(
        "[Unit]\nDescription=job's schedule\n[Timer]\nOnCalendar=*-*-* 03:00:00\n"
        "Persistent=true\n[Install]\nWantedBy=timers.target\n"
    )
    assert _ctl(env, "daemon-reload").returncode == 0
    assert _ctl(env, "enable", "--now", "job.timer").returncode == 0
    assert (unit_dir / "timers.target.wants" / "job.timer").is_symlink()
    assert _ctl(env, "is-enabled", "job.timer").stdout.strip() == "enabled"
    assert _ctl(env, "is-active", "job.timer").stdout.strip() == "active"
    listed = _ctl(env, "list-timers").stdout
    assert "job.timer" in listed and "job.service" in listed and "03:00:00 UTC" in listed
    assert not out.exists()  # nothing elapsed yet
    hook = Path(env["SEALER_SYSTEMD_RUN"]) / "timers" / "job.timer.elapse"
    hook.touch()
    wait_for("the timer started job.service", lambda: out.exists(), timeout=60)
    stamp = Path(env["SEALER_SYSTEMD_STATE"]) / "timers" / "stamp-job.timer"
    assert stamp.is_file()
    assert _ctl(env, "disable", "--now", "job.timer").returncode == 0
    assert _ctl(env, "is-active", "job.timer").stdout.strip() == "inactive"
    assert not (unit_dir / "timers.target.wants" / "job.timer").exists()


def test_a_persistent_timer_catches_up_a_missed_elapse_at_start(
    sd: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    unit_dir, env = sd
    out = tmp_path / "out"
    _job(unit_dir, out)
    (unit_dir / "job.timer").write_text("[Timer]\nOnCalendar=daily\nPersistent=true\n")
    stamp = Path(env["SEALER_SYSTEMD_STATE"]) / "timers" / "stamp-job.timer"
    stamp.parent.mkdir(parents=True)
    stamp.touch()
    two_days_ago = time.time() - 2 * 86400
    os.utime(stamp, (two_days_ago, two_days_ago))
    assert _ctl(env, "start", "job.timer").returncode == 0
    wait_for("the missed elapse caught up", lambda: out.exists(), timeout=60)


def test_a_timer_systemd_would_refuse_does_not_start(
    sd: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    unit_dir, env = sd
    (unit_dir / "job.timer").write_text("[Timer]\nOnCalendar=every day\n")
    reload = _ctl(env, "daemon-reload")
    assert "Failed to parse calendar specification, ignoring: every day" in reload.stderr
    refused = _ctl(env, "start", "job.timer")
    assert refused.returncode == 1
    assert "Timer unit lacks value setting. Refusing." in refused.stderr
    assert "has a bad unit file setting" in refused.stderr
    (unit_dir / "job.timer").write_text("[Timer]\nOnCalendar=daily\n")  # no job.service
    _ctl(env, "daemon-reload")
    orphan = _ctl(env, "start", "job.timer")
    assert orphan.returncode == 1 and "job.service to trigger not loaded" in orphan.stderr
    assert _ctl(env, "is-active", "job.timer").stdout.strip() == "inactive"
