"""spec.backup's facts: the installed files' digests and the timer's state (pure parsers on
the outputs of GNU sha256sum and systemd 252's systemctl)."""

from __future__ import annotations

import pytest

from sealer.connect import Result
from sealer.facts.backup_schedule import (
    BackupSchedule,
    backup_files,
    backup_timer_active,
    backup_timer_enabled,
)
from sealer.facts.base import UnexpectedExit
from sealer.layout import BACKUP_PROGRAM_PATH, BACKUP_SERVICE_PATH, BACKUP_TIMER_PATH

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
