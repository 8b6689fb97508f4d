"""One service's supervisor (the emulated systemd's per-unit process manager).

Started detached by ``systemctl start``; runs ExecStartPre= and ExecStart=, restarts the main
process as Restart=/RestartSec= say (with StartLimitIntervalSec=/StartLimitBurst=), and on
SIGTERM stops the main process's process group (SIGTERM, then SIGKILL after TimeoutStopSec=).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from typing import IO

from sealer_lab.emulate import runtime, sdstate, units

__all__ = ["main"]


class _Stop(Exception):
    pass


def _should_restart(policy: str, code: int) -> bool:
    if policy == "always":
        return True
    if policy in ("on-failure", "on-abnormal", "on-abort"):
        return code != 0
    return False


def _kill_group(pid: int, timeout: float) -> None:
    for sig in (signal.SIGTERM, signal.SIGCONT):
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            done, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            done = pid
        if done == pid:
            break
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)


def _reap_group(pgid: int) -> None:
    """KillMode=control-group: what the main process left behind goes with it."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)


class _Notify:
    """sd_notify for Type=notify units: a datagram socket the service finds in NOTIFY_SOCKET;
    the unit turns active when ``READY=1`` arrives (as systemd does)."""

    def __init__(self, unit: str) -> None:
        self.path = sdstate.run_dir() / f"notify-{unit}.sock"
        self.path.unlink(missing_ok=True)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(self.path))
        self._thread: threading.Thread | None = None
        # READY=1 may come before the supervisor has recorded the main process as started
        # (the service is quick, the supervisor was not scheduled): it is kept until then.
        self._lock = threading.Lock()
        self._ready = False

    def expect(self) -> None:
        """A new main process is about to be started: a READY=1 from now on is its own."""
        with self._lock:
            self._ready = False

    def started(self, state: sdstate.State) -> None:
        """The main process runs (``state.main_pid`` is set): active if it said READY=1
        already, activating until it does otherwise."""
        with self._lock:
            if self._ready:
                sdstate.set_state(state, "active", "running")
            else:
                sdstate.set_state(state, "activating", "start")

    def watch(self, state: sdstate.State) -> None:
        """Listen (once per supervisor, across restarts) for READY=1 from the main process."""
        if self._thread is not None:
            return

        def wait_ready() -> None:
            while True:
                try:
                    data = self.sock.recv(4096)
                except OSError:
                    return
                if b"READY=1" not in data.split(b"\n"):
                    continue
                with self._lock:
                    self._ready = True
                    started = state.active == "activating" and state.sub == "start"
                    if started and state.main_pid:
                        sdstate.set_state(state, "active", "running")

        self._thread = threading.Thread(target=wait_ready, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.sock.close()
        self.path.unlink(missing_ok=True)


#: systemd's exit status when it could not execute a unit's program (EXIT_EXEC).
EXIT_EXEC = 203


def _exec_main(
    unit_name: str, argv: list[str], env: dict[str, str], cwd: str, log: IO[bytes]
) -> subprocess.Popen[bytes] | None:
    """A unit's process in its own session, output to its journal; None (and the reason in
    the journal) when the program cannot be executed."""
    try:
        return subprocess.Popen(
            argv,
            env=env,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
    except OSError as exc:
        log.write(f"{unit_name}: failed to execute {argv[0]}: {exc}\n".encode())
        return None


def _oneshot(
    unit: units.Unit, state: sdstate.State, env: dict[str, str], cwd: str, log: IO[bytes]
) -> int:
    """Type=oneshot: every ExecStart= in order, the unit ``activating (start)`` meanwhile;
    then ``inactive (dead)`` (``active (exited)`` with RemainAfterExit=yes), or ``failed``
    at the first line that fails (a ``-`` prefix ignores its failure)."""
    sdstate.set_state(state, "activating", "start")
    for line in unit.exec_start:
        argv_main, ignore = units.expand_exec(line, env)
        proc = _exec_main(unit.name, argv_main, env, cwd, log)
        if proc is None:
            code = EXIT_EXEC
        else:
            state.main_pid = proc.pid
            sdstate.write_state(state)
            code = proc.wait()
            _reap_group(proc.pid)
        state.main_pid = 0
        state.exit_status = code
        if code != 0 and not ignore:
            log.write(f"{unit.name}: Main process exited, code=exited, status={code}\n".encode())
            log.write(f"{unit.name}: Failed with result 'exit-code'.\n".encode())
            state.result = "exit-code"
            sdstate.set_state(state, "failed", "failed")
            return 0
    state.result = "success"
    if unit.extra.get("Service.RemainAfterExit", "no").lower() in ("yes", "true", "1", "on"):
        sdstate.set_state(state, "active", "exited")
    else:
        sdstate.set_state(state, "inactive", "dead")
    return 0


def main(argv: list[str]) -> int:
    name = argv[0]
    unit = units.load_unit(name, sdstate.unit_dir()) if len(argv) < 2 else None
    if unit is None:
        import json

        unit = units.unit_from_dict(json.loads(argv[1]))
    state = sdstate.read_state(unit.name)
    state.supervisor_pid = os.getpid()
    state.supervisor_start = runtime.start_time(os.getpid())
    state.result, state.exit_status, state.main_pid = "success", None, 0
    stopping = {"flag": False}

    def on_term(_signo: int, _frame: object) -> None:
        stopping["flag"] = True
        raise _Stop

    signal.signal(signal.SIGTERM, on_term)
    log: IO[bytes] = open(sdstate.log_path(unit.name), "ab")  # noqa: SIM115
    starts: list[float] = []
    proc: subprocess.Popen[bytes] | None = None
    notify: _Notify | None = None
    try:
        sdstate.set_state(state, "activating", "start-pre")
        env = runtime.module_env()
        env.pop("PYTHONPATH", None)
        try:
            env.update(units.environment(unit))
        except OSError as exc:
            log.write(f"{unit.name}: failed to load environment files: {exc}\n".encode())
            state.result = "resources"
            sdstate.set_state(state, "failed", "failed")
            return 1
        cwd = unit.working_directory or "/"
        notify = _Notify(unit.name) if unit.extra.get("Service.Type") == "notify" else None
        if notify is not None:
            env["NOTIFY_SOCKET"] = str(notify.path)
        for line in unit.exec_start_pre:
            pre, ignore = units.expand_exec(line, env)
            code = subprocess.call(pre, env=env, cwd=cwd, stdout=log, stderr=log)
            if code != 0 and not ignore:
                state.result, state.exit_status = "exit-code", code
                sdstate.set_state(state, "failed", "failed")
                return 1
        if unit.extra.get("Service.Type") == "oneshot":
            return _oneshot(unit, state, env, cwd, log)
        while True:
            now = time.monotonic()
            starts = [t for t in starts if now - t < unit.start_limit_interval] + [now]
            if len(starts) > unit.start_limit_burst:
                state.result = "start-limit-hit"
                sdstate.set_state(state, "failed", "failed")
                return 1
            env.update(units.environment(unit))
            argv_main, _ = units.expand_exec(unit.exec_start[-1], env)
            if notify is not None:
                notify.expect()
            proc = _exec_main(unit.name, argv_main, env, cwd, log)
            if proc is None:
                code = EXIT_EXEC
            else:
                state.main_pid = proc.pid
                if notify is None:
                    sdstate.set_state(state, "active", "running")
                else:  # Type=notify: active only once the service says READY=1
                    notify.started(state)
                    notify.watch(state)
                code = proc.wait()
                _reap_group(proc.pid)
                proc = None
            state.main_pid = 0
            state.exit_status = code
            state.result = "success" if code == 0 else "exit-code"
            if not _should_restart(unit.restart, code):
                sdstate.set_state(state, "inactive" if code == 0 else "failed", "dead")
                return 0
            state.restarts += 1
            sdstate.set_state(state, "activating", "auto-restart")
            time.sleep(unit.restart_sec)
    except _Stop:
        sdstate.set_state(state, "deactivating", "stop-sigterm")
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if proc is not None:
            _kill_group(proc.pid, unit.timeout_stop_sec)
        elif state.main_pid:  # a oneshot's process
            _kill_group(state.main_pid, unit.timeout_stop_sec)
        state.main_pid = 0
        state.result = "success"
        sdstate.set_state(state, "inactive", "dead")
        return 0
    finally:
        log.close()
        if notify is not None:
            notify.close()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
