"""backup-schedule against the fake: the rendered program, service and timer uploaded with
their modes, the timer enabled and started; nothing when in shape; a changed schedule
restarts the timer; a removal disables it and keeps the snapshots."""

from __future__ import annotations

from sealer.engine.context import RunContext
from sealer.etcd_backup.render import (
    BACKUP_PATHS,
    backup_files,
    program_source,
    render_service,
    render_timer,
)
from sealer.layout import (
    BACKUP_PROGRAM_PATH,
    BACKUP_SERVICE_PATH,
    BACKUP_TIMER_NAME,
    BACKUP_TIMER_PATH,
)
from sealer.plan.payloads import BackupSchedulePayload
from sealer.steps.backup_schedule import BackupSchedule
from tests.steps.builders import M, cluster, make_target, running
from tests.steps.fake_remote import FakeRemote, Upload, changed_argv

CTX = RunContext()
HOST = M[1]
DIR = "/var/backups/sealer-etcd"
DAILY = BackupSchedulePayload("daily", 7, DIR)


def timer_state(fake: FakeRemote, *, active: bool, enabled: bool) -> None:
    fake.on(
        ["systemctl", "is-active", BACKUP_TIMER_NAME],
        host=HOST,
        read=True,
        stdout="active\n" if active else "inactive\n",
        exit_status=0 if active else 3,
    )
    fake.on(
        ["systemctl", "is-enabled", BACKUP_TIMER_NAME],
        host=HOST,
        read=True,
        stdout="enabled\n" if enabled else "disabled\n",
        exit_status=0 if enabled else 1,
    )


def step(fake: FakeRemote, payload: BackupSchedulePayload) -> BackupSchedule:
    c = cluster()
    return BackupSchedule(make_target(fake, c, running(c)), HOST, payload)


def test_service_and_timer_are_what_systemd_is_given() -> None:
    service = render_service(DIR, 7)
    assert "Type=oneshot\n" in service
    assert f"ExecStart=/usr/bin/python3 {BACKUP_PROGRAM_PATH} --dir {DIR} --keep 7\n" in service
    assert "[Install]" not in service  # only the timer starts it
    timer = render_timer("*-*-* 02:30")
    assert "OnCalendar=*-*-* 02:30\n" in timer and "Persistent=true\n" in timer
    assert "Unit=sealer-etcd-backup.service\n" in timer and "WantedBy=timers.target\n" in timer


async def test_install_uploads_every_file_then_enables_and_starts_the_timer(
    fake: FakeRemote,
) -> None:
    fake.on(["mkdir", "-p", "--", "/usr/local/bin"], host=HOST)
    fake.on(["mkdir", "-p", "--", "/etc/systemd/system"], host=HOST)
    fake.on(["systemctl", "daemon-reload"], host=HOST)
    fake.on(["systemctl", "enable", "--now", BACKUP_TIMER_NAME], host=HOST)
    timer_state(fake, active=False, enabled=False)

    outcome = await step(fake, DAILY).run(CTX)

    assert outcome.changed and "daily" in outcome.reason and DIR in outcome.reason
    assert fake.uploads == [
        Upload(HOST, BACKUP_PROGRAM_PATH, program_source(), 0o755),
        Upload(HOST, BACKUP_SERVICE_PATH, render_service(DIR, 7).encode(), 0o644),
        Upload(HOST, BACKUP_TIMER_PATH, render_timer("daily").encode(), 0o644),
    ]
    assert changed_argv(fake) == [
        ("mkdir", "-p", "--", "/usr/local/bin"),
        ("mkdir", "-p", "--", "/etc/systemd/system"),
        ("systemctl", "daemon-reload"),
        ("systemctl", "enable", "--now", BACKUP_TIMER_NAME),
    ]


async def test_in_shape_changes_nothing(fake: FakeRemote) -> None:
    for item in backup_files("daily", DIR, 7):
        fake.write(HOST, item.path, item.content, item.mode)
    timer_state(fake, active=True, enabled=True)

    outcome = await step(fake, DAILY).run(CTX)

    assert not outcome.changed
    assert fake.uploads == [] and changed_argv(fake) == []


async def test_a_new_schedule_rewrites_the_timer_and_restarts_it(fake: FakeRemote) -> None:
    for item in backup_files("daily", DIR, 7):
        fake.write(HOST, item.path, item.content, item.mode)
    timer_state(fake, active=True, enabled=True)
    fake.on(["mkdir", "-p", "--", "/etc/systemd/system"], host=HOST)
    fake.on_prefix(["systemctl"], host=HOST)

    outcome = await step(fake, BackupSchedulePayload("hourly", 7, DIR)).run(CTX)

    assert outcome.changed
    assert fake.uploads == [Upload(HOST, BACKUP_TIMER_PATH, render_timer("hourly").encode(), 0o644)]
    assert changed_argv(fake)[-3:] == [
        ("systemctl", "daemon-reload"),
        ("systemctl", "enable", "--now", BACKUP_TIMER_NAME),
        ("systemctl", "restart", BACKUP_TIMER_NAME),
    ]


async def test_removal_disables_the_timer_removes_the_files_and_keeps_the_snapshots(
    fake: FakeRemote,
) -> None:
    fake.on(
        ["ls", "-d", "--", *BACKUP_PATHS],
        host=HOST,
        read=True,
        stdout="".join(f"{p}\n" for p in BACKUP_PATHS),
    )
    fake.write(HOST, BACKUP_SERVICE_PATH, render_service("/srv/snaps", 3))
    fake.on(["systemctl", "disable", "--now", BACKUP_TIMER_NAME], host=HOST)
    fake.on(["rm", "-f", "--", *BACKUP_PATHS], host=HOST)
    fake.on(["systemctl", "daemon-reload"], host=HOST)

    outcome = await step(fake, BackupSchedulePayload(None)).run(CTX)

    assert outcome.changed
    assert outcome.reason == "scheduled etcd snapshots removed (the snapshots stay in /srv/snaps)"
    assert changed_argv(fake) == [
        ("systemctl", "disable", "--now", BACKUP_TIMER_NAME),
        ("rm", "-f", "--", *BACKUP_PATHS),
        ("systemctl", "daemon-reload"),
    ]
    assert not any("/srv/snaps" in " ".join(argv) for argv in changed_argv(fake))
