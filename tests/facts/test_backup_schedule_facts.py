"""spec.backup's facts: the installed files' digests, the timer's state, the newest snapshot
and the service's last run (pure parsers on the outputs of GNU sha256sum and ls and systemd
252's systemctl)."""

from __future__ import annotations

import datetime as dt

import pytest

from sealer.connect import Result
from sealer.facts.backup_schedule import (
    BackupSchedule,
    LastSnapshot,
    backup_files,
    backup_service_failed,
    backup_timer_active,
    backup_timer_enabled,
    last_snapshot,
)
from sealer.facts.base import UnexpectedExit
from sealer.layout import (
    BACKUP_PROGRAM_PATH,
    BACKUP_SERVICE_NAME,
    BACKUP_SERVICE_PATH,
    BACKUP_TIMER_PATH,
)

A, B = "a" * 64, "b" * 64


def test_digests_of_the_files_present() -> None:
    out = f"{A}  {BACKUP_PROGRAM_PATH}\n{B}  {BACKUP_SERVICE_PATH}\n"
    err = f"sha256sum: {BACKUP_TIMER_PATH}: No such file or directory\n"
    assert backup_files.parse(Result(1, out, err)) == {
        BACKUP_PROGRAM_PATH: A,
        BACKUP_SERVICE_PATH: B,
    }
    nothing = "".join(
        f"sha256sum: {p}: No such file or directory\n"
        for p in (BACKUP_PROGRAM_PATH, BACKUP_SERVICE_PATH, BACKUP_TIMER_PATH)
    )
    assert backup_files.parse(Result(1, "", nothing)) == {}
    with pytest.raises(UnexpectedExit):  # unreadable is not "absent"
        backup_files.parse(Result(1, "", f"sha256sum: {BACKUP_TIMER_PATH}: Permission denied\n"))


@pytest.mark.parametrize(
    ("result", "enabled"),
    [
        (Result(0, "enabled\n", ""), True),
        (Result(1, "disabled\n", ""), False),
        (
            Result(
                1,
                "",
                "Failed to get unit file state for sealer-etcd-backup.timer: No such file or "
                "directory\n",
            ),
            False,
        ),
    ],
)
def test_timer_enabled(result: Result, enabled: bool) -> None:
    assert backup_timer_enabled.parse(result) is enabled


def test_timer_active() -> None:
    assert backup_timer_active.parse(Result(0, "active\n", "")) is True
    assert backup_timer_active.parse(Result(3, "inactive\n", "")) is False
    assert backup_timer_active.parse(Result(3, "failed\n", "")) is False
    with pytest.raises(UnexpectedExit):
        backup_timer_active.parse(Result(255, "", "ssh: broken\n"))


def test_installed_means_anything_left() -> None:
    assert not BackupSchedule({}, False, False).installed
    assert BackupSchedule({BACKUP_SERVICE_PATH: A}, False, False).installed
    assert BackupSchedule({}, False, True).installed


def test_the_newest_snapshot_by_the_time_in_its_name() -> None:
    listing = (
        "etcd-20261201T030000Z.db\netcd-20261201T030000Z.db.sha256\n"
        "etcd-20261202T030000Z.db\netcd-20261202T030000Z-1.db\netcd-20261202T030000Z-1.db.sha256\n"
        "etcd-20261130T030000Z.db\nnotes.txt\n.etcd-20261203T030000Z.db.part\n"
    )
    last = last_snapshot("/var/backups/sealer-etcd").parse(Result(0, listing, ""))
    assert last == LastSnapshot(
        "etcd-20261202T030000Z-1.db", dt.datetime(2026, 12, 2, 3, 0, tzinfo=dt.UTC)
    )


@pytest.mark.parametrize(
    "result",
    [
        Result(0, "", ""),  # installed, the timer has not fired yet
        Result(0, "etcd-20261201T030000Z.db.sha256\nnotes.txt\n", ""),
        Result(2, "", "ls: cannot access '/b': No such file or directory\n"),
    ],
)
def test_no_snapshot_yet(result: Result) -> None:
    assert last_snapshot("/b").parse(result) is None


def test_an_unreadable_backup_directory_is_an_error() -> None:
    fact = last_snapshot("/b")
    assert fact.argv == ("ls", "-1", "--", "/b")
    with pytest.raises(UnexpectedExit):
        fact.parse(Result(2, "", "ls: cannot open directory '/b': Permission denied\n"))


def test_the_services_last_run() -> None:
    assert backup_service_failed.argv == ("systemctl", "is-failed", BACKUP_SERVICE_NAME)
    assert backup_service_failed.parse(Result(0, "failed\n", "")) is True
    assert backup_service_failed.parse(Result(1, "inactive\n", "")) is False
    assert backup_service_failed.parse(Result(1, "activating\n", "")) is False
    with pytest.raises(UnexpectedExit):
        backup_service_failed.parse(Result(4, "", "Access denied\n"))
