"""The emulated systemctl on this machine (unit and state directories given by env)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from sealer_lab.emulate import runtime, sdstate, supervisor
from tests.waiting import wait_for


@pytest.fixture
def sd(tmp_path: Path) -> Iterator[tuple[Path, dict[str, str]]]:
    units = tmp_path / "units"
    units.mkdir()
    env = {
        **os.environ,
        "SEALER_SYSTEMD_UNITS": str(units),
        "SEALER_SYSTEMD_RUN": str(tmp_path / "run"),
    }
    (units / "demo.service").write_text(
        "[Unit]\nDescription=demo\n[Service]\nEnvironment=MSG=hi\n"
        "ExecStart=/bin/sh -c 'echo $MSG; exec sleep 300'\nRestart=always\nRestartSec=0.2\n"
        "[Install]\nWantedBy=multi-user.target\n"
    )
    yield units, env
    _ctl(env, "stop", "demo")


def _ctl(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sealer_lab.emulate.systemctl", *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def _main_pid(env: dict[str, str]) -> int:
    return int(_ctl(env, "show", "-p", "MainPID", "--value", "demo").stdout.strip() or 0)


def _wait_new_pid(env: dict[str, str], old: int) -> int:
    return wait_for(
        f"a main process other than {old}",
        lambda: pid if (pid := _main_pid(env)) and pid != old else None,
        timeout=30,
        interval=0.05,
    )


def _journal(env: dict[str, str]) -> list[str]:
    return subprocess.run(
        [sys.executable, "-m", "sealer_lab.emulate.journalctl", "-u", "demo", "-n", "2"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()


def test_start_restart_on_death_stop(sd: tuple[Path, dict[str, str]]) -> None:
    _, env = sd
    assert _ctl(env, "is-active", "demo").stdout.strip() == "inactive"
    assert _ctl(env, "start", "demo").returncode == 0
    pid = _main_pid(env)
    assert pid > 0 and runtime.pid_alive(pid)
    assert _ctl(env, "is-active", "demo").returncode == 0
    # start returns once the process is forked: its `echo` comes when it comes
    wait_for(lambda: f"the first 'hi' (journal: {_journal(env)})", lambda: _journal(env) == ["hi"])
    os.kill(pid, 9)
    new = _wait_new_pid(env, pid)
    assert new != pid
    assert _ctl(env, "show", "-p", "NRestarts", "--value", "demo").stdout.strip() == "1"
    status = _ctl(env, "status", "demo")
    assert "Active: active (running)" in status.stdout and "hi" in status.stdout
    wait_for(
        lambda: f"the restarted process's 'hi' (journal: {_journal(env)})",
        lambda: _journal(env) == ["hi", "hi"],
    )
    assert _ctl(env, "stop", "demo").returncode == 0
    assert _ctl(env, "is-active", "demo").stdout.strip() == "inactive"
    wait_for(f"process {new} to end", lambda: not runtime.pid_alive(new), timeout=30)


def test_enable_disable_and_unknown_units(sd: tuple[Path, dict[str, str]]) -> None:
    units, env = sd
    assert _ctl(env, "is-enabled", "demo").stdout.strip() == "disabled"
    assert _ctl(env, "enable", "demo").returncode == 0
    link = units / "multi-user.target.wants" / "demo.service"
    assert link.is_symlink()
    assert _ctl(env, "is-enabled", "demo").stdout.strip() == "enabled"
    assert _ctl(env, "disable", "demo").returncode == 0
    assert not link.exists()
    missing = _ctl(env, "start", "nope")
    assert missing.returncode == 5
    assert "Unit nope.service not found." in missing.stderr
    assert _ctl(env, "status", "nope").returncode == 4


def test_changed_unit_warns_until_daemon_reload(sd: tuple[Path, dict[str, str]]) -> None:
    units, env = sd
    assert _ctl(env, "start", "demo").returncode == 0
    (units / "demo.service").write_text(
        (units / "demo.service").read_text().replace("MSG=hi", "MSG=bye")
    )
    restarted = _ctl(env, "restart", "demo")
    assert "changed on disk. Run 'systemctl daemon-reload'" in restarted.stderr
    assert _ctl(env, "daemon-reload").returncode == 0
    assert "changed on disk" not in _ctl(env, "restart", "demo").stderr


NOTIFY_SERVICE = """\
import os, socket, sys, time
time.sleep(1.5)
open(sys.argv[1], "w").write("ready")
with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
    s.sendto(b"READY=1", os.environ["NOTIFY_SOCKET"])
time.sleep(300)
"""


def test_type_notify_start_waits_for_ready(sd: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    units, env = sd
    script, marker = tmp_path / "svc.py", tmp_path / "ready"
    script.write_text(NOTIFY_SERVICE)
    (units / "notified.service").write_text(
        "[Service]\nType=notify\nTimeoutStartSec=30\n"
        f"ExecStart={sys.executable} {script} {marker}\n"
    )
    try:
        assert _ctl(env, "start", "notified").returncode == 0
        # start returned only after the service said READY=1, which it does after the marker
        assert marker.read_text() == "ready"
        assert _ctl(env, "is-active", "notified").stdout.strip() == "active"
    finally:
        _ctl(env, "stop", "notified")


def test_type_notify_without_ready_fails_at_the_start_timeout(
    sd: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    units, env = sd
    (units / "silent.service").write_text(
        "[Service]\nType=notify\nTimeoutStartSec=2\nExecStart=/bin/sleep 300\n"
    )
    try:
        started = _ctl(env, "start", "silent")
        assert started.returncode == 1
        assert "failed because a timeout was exceeded" in started.stderr
        assert _ctl(env, "is-active", "silent").stdout.strip() == "failed"
    finally:
        _ctl(env, "stop", "silent")


def test_ready_before_the_supervisor_recorded_its_main_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A quick Type=notify service may say READY=1 before its supervisor (not scheduled in
    between) has recorded the main process as started: the unit still turns active, at the
    first start and after a restart (when the READY=1 listener already runs)."""
    monkeypatch.setenv("SEALER_SYSTEMD_RUN", str(tmp_path))
    notify = supervisor._Notify("quick.service")
    state = sdstate.State(unit="quick.service")
    try:
        sdstate.set_state(state, "activating", "start-pre")
        notify.watch(state)
        for pid in (4242, 4343):
            notify.expect()  # the supervisor is about to start the main process
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
                sock.sendto(b"READY=1", str(notify.path))  # the service is ready already
            wait_for("READY=1 received", lambda: notify._ready, timeout=30, interval=0.01)
            assert state.active == "activating"  # not started yet: nothing to make active
            state.main_pid = pid  # the supervisor records the main process only now
            notify.started(state)
            assert (state.active, state.sub) == ("active", "running")
            state.main_pid = 0  # it dies; Restart=always
            sdstate.set_state(state, "activating", "auto-restart")
    finally:
        notify.close()


@pytest.mark.parametrize("kind", ["simple", "oneshot"])
def test_a_program_that_cannot_be_executed_fails_the_unit_with_203(
    sd: tuple[Path, dict[str, str]], kind: str
) -> None:
    units, env = sd
    (units / "missing.service").write_text(
        f"[Service]\nType={kind}\nExecStart=/nonexistent/sealer-lab-program --flag\n"
    )
    try:
        started = _ctl(env, "start", "missing")
        if kind == "oneshot":  # systemd's job ends with the process: start says it failed
            assert started.returncode == 1 and "failed" in started.stderr
        wait_for(
            "the unit failed",
            lambda: _ctl(env, "is-active", "missing").stdout.strip() == "failed",
            timeout=30,
        )
        shown = _ctl(env, "show", "-p", "ExecMainStatus", "--value", "missing").stdout.strip()
        assert shown == str(supervisor.EXIT_EXEC) == "203"
        journal = subprocess.run(
            [sys.executable, "-m", "sealer_lab.emulate.journalctl", "-u", "missing"],
            env=env, capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        assert "failed to execute /nonexistent/sealer-lab-program" in journal
    finally:
        _ctl(env, "stop", "missing")
