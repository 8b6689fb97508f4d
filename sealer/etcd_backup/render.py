"""What sealer installs on a master for ``spec.backup`` (pure): the program, its oneshot
service and the timer, each with its mode; their sha256 is what the planner compares with the
master's files."""

from __future__ import annotations

import hashlib
import shlex
from dataclasses import dataclass
from importlib import resources

from sealer.layout import (
    BACKUP_PROGRAM_PATH,
    BACKUP_SERVICE_NAME,
    BACKUP_SERVICE_PATH,
    BACKUP_TIMER_NAME,
    BACKUP_TIMER_PATH,
    PYTHON_PATH,
)

__all__ = [
    "BACKUP_PATHS",
    "BackupFile",
    "backup_files",
    "enable_argv",
    "installed_dir",
    "program_source",
    "remove_argv",
    "render_service",
    "render_timer",
    "wanted_digests",
]

#: Every file of the installation, in upload order (the timer last: it is what starts runs).
BACKUP_PATHS = (BACKUP_PROGRAM_PATH, BACKUP_SERVICE_PATH, BACKUP_TIMER_PATH)


@dataclass(frozen=True)
class BackupFile:
    path: str
    content: bytes
    mode: int


def program_source() -> bytes:
    """The program exactly as installed (read from the package)."""
    return resources.files("sealer.etcd_backup").joinpath("program.py").read_bytes()


def render_service(directory: str, keep: int) -> str:
    """The oneshot service the timer starts (no [Install]: only the timer starts it)."""
    command = shlex.join(
        [PYTHON_PATH, BACKUP_PROGRAM_PATH, "--dir", directory, "--keep", str(keep)]
    )
    return f"""\
# Written by sealer (spec.backup); `sealer apply` rewrites it, `sealer clean` removes it.
[Unit]
Description=sealer: verified etcd snapshot into {directory} (newest {keep} kept)
After=network-online.target

[Service]
Type=oneshot
ExecStart={command}
TimeoutStartSec=30min
Nice=10
IOSchedulingClass=idle
"""


def render_timer(schedule: str) -> str:
    """``Persistent=true``: a master that was down at the scheduled time takes its snapshot
    when it is back (systemd keeps the last elapse in /var/lib/systemd/timers)."""
    return f"""\
# Written by sealer (spec.backup); `sealer apply` rewrites it, `sealer clean` removes it.
[Unit]
Description=sealer: scheduled etcd snapshot ({schedule})

[Timer]
OnCalendar={schedule}
Persistent=true
Unit={BACKUP_SERVICE_NAME}

[Install]
WantedBy=timers.target
"""


def backup_files(schedule: str, directory: str, keep: int) -> list[BackupFile]:
    return [
        BackupFile(BACKUP_PROGRAM_PATH, program_source(), 0o755),
        BackupFile(BACKUP_SERVICE_PATH, render_service(directory, keep).encode(), 0o644),
        BackupFile(BACKUP_TIMER_PATH, render_timer(schedule).encode(), 0o644),
    ]


def wanted_digests(schedule: str, directory: str, keep: int) -> dict[str, str]:
    """Path -> sha256 of what the master should hold."""
    return {
        f.path: hashlib.sha256(f.content).hexdigest()
        for f in backup_files(schedule, directory, keep)
    }


def installed_dir(service_text: str) -> str | None:
    """The ``--dir`` of an installed service file (where its snapshots went), None when the
    file is not sealer's."""
    for line in service_text.splitlines():
        if line.startswith("ExecStart="):
            words = shlex.split(line.removeprefix("ExecStart="))
            if "--dir" in words[:-1]:
                return words[words.index("--dir") + 1]
    return None


def enable_argv(restart: bool) -> list[list[str]]:
    """After the files: systemd reads them, the timer is enabled and started; a timer whose
    file changed is restarted so that its next elapse follows the new schedule."""
    argv = [["systemctl", "daemon-reload"], ["systemctl", "enable", "--now", BACKUP_TIMER_NAME]]
    if restart:
        argv.append(["systemctl", "restart", BACKUP_TIMER_NAME])
    return argv


def remove_argv() -> tuple[list[str], list[str]]:
    """Before removing the files (may fail: already gone), and after."""
    return (
        ["systemctl", "disable", "--now", BACKUP_TIMER_NAME],
        ["systemctl", "daemon-reload"],
    )
