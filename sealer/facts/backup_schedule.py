"""What a master holds of ``spec.backup``: the sha256 of the program, the service and the
timer, whether the timer is enabled and active, and (for ``status``) the newest snapshot in
the backup directory and whether the service's last run failed (read-only)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sealer.connect import Result
from sealer.etcd_backup.program import SNAPSHOT
from sealer.facts.base import Fact, UnexpectedExit
from sealer.facts.system import parse_sha256sums
from sealer.layout import (
    BACKUP_PROGRAM_PATH,
    BACKUP_SERVICE_NAME,
    BACKUP_SERVICE_PATH,
    BACKUP_TIMER_NAME,
    BACKUP_TIMER_PATH,
)

__all__ = [
    "BackupSchedule",
    "LastSnapshot",
    "backup_files",
    "backup_service_failed",
    "backup_timer_active",
    "backup_timer_enabled",
    "last_snapshot",
    "parse_backup_files",
    "parse_last_snapshot",
    "parse_service_failed",
    "parse_timer_active",
    "parse_timer_enabled",
]


@dataclass(frozen=True)
class BackupSchedule:
    """A master's scheduled-backup files (path -> sha256, only those present) and timer."""

    files: dict[str, str]
    enabled: bool
    active: bool

    @property
    def installed(self) -> bool:
        return bool(self.files) or self.enabled or self.active


def parse_backup_files(result: Result) -> dict[str, str]:
    """``sha256sum -- PROGRAM SERVICE TIMER``: the digests of the files present (a missing file
    makes exit status 1 with "No such file or directory" for it, which is not an error)::

        9f2c...e1  /usr/local/bin/sealer-etcd-backup
        sha256sum: /etc/systemd/system/sealer-etcd-backup.timer: No such file or directory
    """
    if result.exit_status not in (0, 1):
        raise UnexpectedExit(result)
    errors = [line for line in result.stderr.splitlines() if line.strip()]
    if any("No such file or directory" not in line for line in errors):
        raise UnexpectedExit(result)
    return parse_sha256sums(result.stdout)


def parse_timer_enabled(result: Result) -> bool:
    """``systemctl is-enabled TIMER``: ``enabled`` with exit 0; ``disabled`` (or "Failed to
    get unit file state ... No such file or directory" for no unit) with exit 1."""
    if result.exit_status == 0:
        return result.stdout.strip() == "enabled"
    if result.exit_status == 1:
        return False
    raise UnexpectedExit(result)


def parse_timer_active(result: Result) -> bool:
    """``systemctl is-active TIMER``: ``active`` with exit 0, anything else with exit 3 (4
    for an unknown unit on some versions)."""
    if result.exit_status == 0:
        return result.stdout.strip() == "active"
    if result.exit_status in (3, 4):
        return False
    raise UnexpectedExit(result)


backup_files: Fact[dict[str, str]] = Fact(
    "scheduled backup files",
    ("sha256sum", "--", BACKUP_PROGRAM_PATH, BACKUP_SERVICE_PATH, BACKUP_TIMER_PATH),
    parse_backup_files,
)
backup_timer_enabled: Fact[bool] = Fact(
    "scheduled backup timer enabled",
    ("systemctl", "is-enabled", BACKUP_TIMER_NAME),
    parse_timer_enabled,
)
backup_timer_active: Fact[bool] = Fact(
    "scheduled backup timer active",
    ("systemctl", "is-active", BACKUP_TIMER_NAME),
    parse_timer_active,
)


@dataclass(frozen=True)
class LastSnapshot:
    """The newest scheduled snapshot in a master's backup directory: its file name and the
    time it was taken (the UTC time its name carries)."""

    name: str
    taken: dt.datetime


def parse_last_snapshot(result: Result) -> LastSnapshot | None:
    """``ls -1 -- DIR``: the newest ``etcd-YYYYMMDDTHHMMSSZ[-N].db`` (other files, the
    ``.sha256`` ones included, are not snapshots); None for none, or no directory yet (GNU ls:
    exit 2, "cannot access 'DIR': No such file or directory")::

        etcd-20261201T030000Z.db
        etcd-20261201T030000Z.db.sha256
        etcd-20261202T030000Z.db
        etcd-20261202T030000Z.db.sha256
    """
    if result.exit_status == 2 and "No such file or directory" in result.stderr:
        return None
    if result.exit_status != 0:
        raise UnexpectedExit(result)
    found: list[tuple[str, int, str]] = []
    for name in result.stdout.split():
        match = SNAPSHOT.match(name)
        if match is not None:
            found.append((match.group(1), int(match.group(2) or 0), name))
    if not found:
        return None
    stamp, _n, name = max(found)
    taken = dt.datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC)
    return LastSnapshot(name, taken)


def last_snapshot(directory: str) -> Fact[LastSnapshot | None]:
    """The newest scheduled snapshot in ``directory`` (``spec.backup.dir``)."""
    return Fact("newest scheduled snapshot", ("ls", "-1", "--", directory), parse_last_snapshot)


def parse_service_failed(result: Result) -> bool:
    """``systemctl is-failed SERVICE``: ``failed`` with exit 0 when its last run failed; its
    state (``inactive``, ``active``...) with exit 1 otherwise, an unknown unit included."""
    if result.exit_status == 0:
        return result.stdout.strip() == "failed"
    if result.exit_status == 1:
        return False
    raise UnexpectedExit(result)


backup_service_failed: Fact[bool] = Fact(
    "scheduled backup service failed",
    ("systemctl", "is-failed", BACKUP_SERVICE_NAME),
    parse_service_failed,
)
