"""What a master holds of ``spec.backup``'s installation: the sha256 of the program, the
service and the timer, and whether the timer is enabled and active (read-only)."""

from __future__ import annotations

from dataclasses import dataclass

from sealer.connect import Result
from sealer.facts.base import Fact, UnexpectedExit
from sealer.facts.system import parse_sha256sums
from sealer.layout import (
    BACKUP_PROGRAM_PATH,
    BACKUP_SERVICE_PATH,
    BACKUP_TIMER_NAME,
    BACKUP_TIMER_PATH,
)

__all__ = [
    "BackupSchedule",
    "backup_files",
    "backup_timer_active",
    "backup_timer_enabled",
    "parse_backup_files",
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
