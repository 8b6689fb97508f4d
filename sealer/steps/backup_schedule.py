"""backup-schedule: ``spec.backup`` on a master: the snapshot program, its oneshot service and
the timer installed, enabled and started; or, with ``spec.backup`` removed, taken away.

Files go over SFTP, only those that differ from what is rendered; a changed timer is
restarted so that its next elapse follows the new schedule. The snapshots themselves are never
removed here: they are the operator's backups (docs/operations.md, "Scheduled snapshots").
"""

from __future__ import annotations

from dataclasses import dataclass

from sealer.engine.context import RunContext
from sealer.engine.step import StepOutcome, changed, unchanged
from sealer.etcd_backup.render import (
    BACKUP_PATHS,
    backup_files,
    enable_argv,
    installed_dir,
    remove_argv,
)
from sealer.layout import BACKUP_SERVICE_PATH, BACKUP_TIMER_NAME
from sealer.plan.payloads import BackupSchedulePayload
from sealer.steps.base import KindStep, StepBuilder
from sealer.steps.target import Target

__all__ = ["BUILDERS", "BackupSchedule", "remove_backup_schedule"]


async def remove_backup_schedule(target: Target, host: str) -> str | None:
    """Disable and stop the timer, remove the program, service and timer; say what was done
    and where the snapshots stay (None: nothing was installed). The snapshots are kept."""
    conns, access = target.conns, target.access[host]
    listed = await conns.run(access, ["ls", "-d", "--", *BACKUP_PATHS], check=False)
    present = [p for p in listed.stdout.splitlines() if p.startswith("/")]
    if not present:
        return None
    service = await conns.read_file(access, BACKUP_SERVICE_PATH)
    directory = installed_dir(service.decode(errors="replace")) if service else None
    before, after = remove_argv()
    await conns.run(access, before, check=False)  # a half-removed install: the unit may be gone
    await conns.run(access, ["rm", "-f", "--", *present])
    await conns.run(access, after)
    kept = f"the snapshots stay in {directory}" if directory else "the snapshots stay"
    return f"scheduled etcd snapshots removed ({kept})"


@dataclass(frozen=True)
class BackupSchedule(KindStep[BackupSchedulePayload]):
    async def run(self, _ctx: RunContext) -> StepOutcome:
        t, p = self.target, self.payload
        if p.schedule is None:
            removed = await remove_backup_schedule(t, self.host)
            if removed is None:
                return unchanged("no scheduled etcd snapshot installed")
            return changed(removed)
        access = t.access[self.host]
        wrote: list[str] = []
        made: set[str] = set()
        for item in backup_files(p.schedule, p.directory, p.keep):
            if await t.conns.read_file(access, item.path) == item.content:
                continue
            parent = item.path.rsplit("/", 1)[0]
            if parent not in made:
                await t.conns.run(access, ["mkdir", "-p", "--", parent])
                made.add(parent)
            await t.conns.put(access, item.content, item.path, mode=item.mode)
            wrote.append(item.path)
        active = await t.conns.run(
            access, ["systemctl", "is-active", BACKUP_TIMER_NAME], check=False
        )
        enabled = await t.conns.run(
            access, ["systemctl", "is-enabled", BACKUP_TIMER_NAME], check=False
        )
        if not wrote and active.ok and enabled.ok:
            return unchanged("scheduled etcd snapshots installed and the timer active")
        for argv in enable_argv(restart=bool(wrote) and active.ok):
            await t.conns.run(access, argv)
        return changed(
            f"etcd snapshot {p.schedule} into {p.directory} (newest {p.keep} kept): timer "
            f"{BACKUP_TIMER_NAME} active"
        )


BUILDERS = (StepBuilder(BackupSchedulePayload, BackupSchedule),)
