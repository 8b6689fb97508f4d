"""The emulated ``systemctl``: start/stop/restart/enable/disable/is-active/is-enabled/status/
daemon-reload/reset-failed/show for service units in /etc/systemd/system.

Unit definitions are loaded on first use and kept (in /run/systemd-emu/loaded/) until
``daemon-reload``, as systemd does: editing a loaded unit without daemon-reload makes start/
restart warn and use the old definition. Environment files are read at each start.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sealer_lab.emulate import runtime, sdstate, timerd, units

__all__ = ["main", "start", "stop"]

EXIT_NOT_FOUND = 5


def _loaded_path(name: str) -> Path:
    return sdstate.run_dir() / "loaded" / f"{name}.json"


def _read_loaded(name: str) -> dict[str, Any] | None:
    """The record of ``name`` as last loaded (None: never loaded since the last reload)."""
    try:
        data: dict[str, Any] = json.loads(_loaded_path(name).read_text())
    except (OSError, ValueError):
        return None
    return data


def _write_loaded(name: str, fp: str, **record: object) -> None:
    """Record ``name`` as loaded: its definition (or why it was refused) and the fingerprint
    of its files then, against which a later change on disk is seen."""
    path = _loaded_path(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({**record, "fingerprint": fp}))


def _load(name: str) -> tuple[units.Unit, bool]:
    """The loaded definition (loading it now if never loaded) and whether it changed on disk."""
    udir = sdstate.unit_dir()
    data = _read_loaded(name)
    if data is None:
        unit = units.load_unit(name, udir)
        _write_loaded(name, units.fingerprint(name, udir), unit=dataclasses.asdict(unit))
        return unit, False
    if not (udir / name).is_file():
        raise units.UnitNotFound(name)
    changed = data["fingerprint"] != units.fingerprint(name, udir)
    return units.unit_from_dict(data["unit"]), changed


def _load_timer(name: str) -> tuple[units.Timer, bool]:
    """A timer's loaded definition (loading it now if never loaded) and whether its files
    changed on disk since; :class:`units.TimerError` when systemd would refuse it."""
    udir = sdstate.unit_dir()
    data = _read_loaded(name)
    if data is None:
        timer = units.load_timer(name, udir)
        _write_loaded(name, units.fingerprint(name, udir), timer=dataclasses.asdict(timer))
        return timer, False
    if not (udir / name).is_file():
        raise units.UnitNotFound(name)
    if "error" in data:
        raise units.TimerError(data["error"])
    changed = data["fingerprint"] != units.fingerprint(name, udir)
    return units.timer_from_dict(data["timer"]), changed


def daemon_reload() -> None:
    udir = sdstate.unit_dir()
    loaded = sdstate.run_dir() / "loaded"
    if loaded.is_dir():
        for stale in loaded.glob("*.json"):
            stale.unlink()
    for name in units.unit_files(udir):
        fp = units.fingerprint(name, udir)
        if name.endswith(".timer"):
            try:
                timer = units.load_timer(name, udir)
            except units.TimerError as exc:  # systemd logs it; start then refuses the unit
                print(str(exc), file=sys.stderr)
                _write_loaded(name, fp, error=str(exc))
                continue
            except OSError:
                continue
            for warning in timer.warnings:
                print(warning, file=sys.stderr)
            _write_loaded(name, fp, timer=dataclasses.asdict(timer))
            continue
        try:
            _write_loaded(name, fp, unit=dataclasses.asdict(units.load_unit(name, udir)))
        except (OSError, ValueError):
            continue


def _warn_changed(name: str) -> None:
    print(
        f"Warning: The unit file, source configuration file or drop-ins of {name} changed "
        "on disk. Run 'systemctl daemon-reload' to reload units.",
        file=sys.stderr,
    )


def _start_timeout(unit: units.Unit) -> float:
    """TimeoutStartSec= in seconds (plain seconds or with an s suffix; systemd's 90 s else)."""
    text = unit.extra.get("Service.TimeoutStartSec", "90").strip().removesuffix("s")
    try:
        return float(text)
    except ValueError:
        return 90.0


def _bad_setting(name: str, why: str = "") -> int:
    if why:
        print(why, file=sys.stderr)
    print(f"Failed to start {name}: Unit {name} has a bad unit file setting.", file=sys.stderr)
    return 1


def _spawn_manager(
    module: str, name: str, definition: dict[str, object]
) -> subprocess.Popen[bytes]:
    """The process that manages unit ``name`` (a service's supervisor, a timer's scheduler),
    started detached with the unit's definition, its output in the unit's journal."""
    with open(sdstate.log_path(name), "ab") as log:
        return subprocess.Popen(
            runtime.module_argv(module, name, json.dumps(definition)),
            env=runtime.module_env(code=runtime.stable_code_root(sdstate.run_dir() / "code")),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,
            close_fds=True,
        )


def start_timer(name: str) -> int:
    """A timer: its scheduler (``timerd``) started detached; the unit it activates must
    exist (systemd refuses to start a timer with nothing to trigger)."""
    try:
        timer, changed = _load_timer(name)
    except units.UnitNotFound:
        print(f"Failed to start {name}: Unit {name} not found.", file=sys.stderr)
        return EXIT_NOT_FOUND
    except units.TimerError as exc:
        return _bad_setting(name, str(exc))
    if changed:
        _warn_changed(name)
    state = sdstate.read_state(name)
    if state.active == "active" and sdstate.supervisor_alive(state):
        return 0
    if not (sdstate.unit_dir() / timer.unit).is_file():
        print(
            f"Failed to start {name}: Refusing to start, unit {timer.unit} to trigger not loaded.",
            file=sys.stderr,
        )
        return 1
    sdstate.run_dir().mkdir(parents=True, exist_ok=True)
    state = sdstate.State(unit=name)
    sdstate.write_state(state)
    proc = _spawn_manager("sealer_lab.emulate.timerd", name, dataclasses.asdict(timer))
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and proc.poll() is None:
        state = sdstate.read_state(name)
        if state.supervisor_pid == proc.pid and state.active == "active":
            return 0
        time.sleep(0.02)
    return 0 if sdstate.read_state(name).active == "active" else 1


def _wait_oneshot(name: str, pid: int) -> int:
    """Type=oneshot: ``start`` returns when the service has run (systemd's job ends then)."""
    while True:
        state = sdstate.read_state(name)
        if state.supervisor_pid == pid and state.active in ("inactive", "failed", "active"):
            break
        if state.supervisor_pid == pid and not runtime.pid_alive(pid):
            break
        time.sleep(0.05)
    state = sdstate.read_state(name)
    if state.active == "failed":
        print(
            f"Job for {name} failed because the control process exited with error code.\n"
            f'See "systemctl status {name}" and "journalctl -xeu {name}" for details.',
            file=sys.stderr,
        )
        return 1
    return 0


def start(name: str) -> int:
    name = units.normalize(name)
    if name.endswith(".timer"):
        return start_timer(name)
    try:
        unit, changed = _load(name)
    except units.UnitNotFound:
        print(f"Failed to start {name}: Unit {name} not found.", file=sys.stderr)
        return EXIT_NOT_FOUND
    if changed:
        _warn_changed(name)
    state = sdstate.read_state(name)
    if state.active in ("active", "activating") and sdstate.supervisor_alive(state):
        return 0
    if not unit.exec_start:
        return _bad_setting(name)
    oneshot = unit.extra.get("Service.Type") == "oneshot"
    if oneshot and unit.restart in ("always", "on-success"):
        return _bad_setting(
            name,
            f"{name}: Service has Restart= set to either always or on-success, which isn't "
            "allowed for Type=oneshot services. Refusing.",
        )
    if not oneshot and len(unit.exec_start) > 1:
        return _bad_setting(
            name,
            f"{name}: Service has more than one ExecStart= setting, which is only allowed "
            "for Type=oneshot services. Refusing.",
        )
    sdstate.run_dir().mkdir(parents=True, exist_ok=True)
    state = sdstate.State(unit=name, restarts=0)
    sdstate.set_state(state, "activating", "start-pre")
    proc = _spawn_manager("sealer_lab.emulate.supervisor", name, dataclasses.asdict(unit))
    if oneshot:
        return _wait_oneshot(name, proc.pid)
    # Type=simple: start returns once the main process has been forked; Type=notify: once
    # the service has sent READY=1 (or it failed), within TimeoutStartSec.
    notify = unit.extra.get("Service.Type") == "notify"
    deadline = time.monotonic() + (_start_timeout(unit) if notify else 10)
    while time.monotonic() < deadline:
        state = sdstate.read_state(name)
        forked = state.main_pid and (not notify or state.active == "active")
        if state.supervisor_pid == proc.pid and (forked or state.active in ("failed", "inactive")):
            break
        if proc.poll() is not None:
            break
        time.sleep(0.02)
    state = sdstate.read_state(name)
    if notify and state.active == "activating":  # no READY=1 within TimeoutStartSec
        stop(name)
        failed = sdstate.read_state(name)
        failed.result = "timeout"
        sdstate.set_state(failed, "failed", "failed")
        print(
            f"Job for {name} failed because a timeout was exceeded.\n"
            f'See "systemctl status {name}" and "journalctl -xeu {name}" for details.',
            file=sys.stderr,
        )
        return 1
    if (
        state.active == "failed"
        and state.result in ("exit-code", "resources")
        and not state.restarts
    ) and state.sub == "failed":
        print(
            f"Job for {name} failed because the control process exited with error code.\n"
            f'See "systemctl status {name}" and "journalctl -xeu {name}" for details.',
            file=sys.stderr,
        )
        return 1
    return 0


def stop(name: str) -> int:
    name = units.normalize(name)
    udir = sdstate.unit_dir()
    state = sdstate.read_state(name)
    if not (udir / name).is_file() and state.active == "inactive":
        print(f"Failed to stop {name}: Unit {name} not loaded.", file=sys.stderr)
        return EXIT_NOT_FOUND
    if sdstate.supervisor_alive(state):
        with contextlib.suppress(ProcessLookupError):
            os.kill(state.supervisor_pid, signal.SIGTERM)
        deadline = time.monotonic() + 100
        while time.monotonic() < deadline and runtime.pid_alive(state.supervisor_pid):
            time.sleep(0.02)
    state = sdstate.read_state(name)
    if state.active != "inactive":
        state.main_pid = 0
        sdstate.set_state(state, "inactive", "dead")
    return 0


def _wants_dirs(unit: units.Unit) -> list[Path]:
    return [sdstate.unit_dir() / f"{target}.wants" for target in unit.wanted_by]


def enable(name: str) -> int:
    name = units.normalize(name)
    try:
        unit = units.load_unit(name, sdstate.unit_dir())
    except units.UnitNotFound:
        print(f"Failed to enable unit: Unit file {name} does not exist.", file=sys.stderr)
        return 1
    if not unit.wanted_by:
        print(
            "The unit files have no installation config (WantedBy=, RequiredBy=, Also=,\n"
            "Alias= settings in the [Install] section, and DefaultInstance= for template\n"
            "units). This means they are not meant to be enabled or disabled using systemctl.",
            file=sys.stderr,
        )
        return 0
    for wants in _wants_dirs(unit):
        link = wants / name
        if link.is_symlink() or link.exists():
            continue
        wants.mkdir(parents=True, exist_ok=True)
        link.symlink_to(sdstate.unit_dir() / name)
        print(f"Created symlink {link} → {sdstate.unit_dir() / name}.", file=sys.stderr)
    return 0


def disable(name: str) -> int:
    name = units.normalize(name)
    udir = sdstate.unit_dir()
    if not (udir / name).is_file():
        print(f"Failed to disable unit: Unit file {name} does not exist.", file=sys.stderr)
        return 1
    for link in sorted(udir.glob(f"*.wants/{name}")):
        link.unlink()
        print(f'Removed "{link}".', file=sys.stderr)
    return 0


def enabled_units() -> list[str]:
    """Enabled units whose unit file is the host's own (a regular file in the unit directory);
    units of the machine's packages (symlinks into /lib/systemd/system) are not managed."""
    udir = sdstate.unit_dir()
    return sorted(
        {
            p.name
            for p in [*udir.glob("*.wants/*.service"), *udir.glob("*.wants/*.timer")]
            if (udir / p.name).is_file() and not (udir / p.name).is_symlink()
        }
    )


def is_enabled(name: str) -> tuple[str, int]:
    name = units.normalize(name)
    udir = sdstate.unit_dir()
    if not (udir / name).is_file():
        return "", 1
    if any(udir.glob(f"*.wants/{name}")):
        return "enabled", 0
    unit = units.load_unit(name, udir)
    return ("disabled", 1) if unit.wanted_by else ("static", 0)


def _fmt_time(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%a %Y-%m-%d %H:%M:%S UTC")


def status(name: str) -> int:
    name = units.normalize(name)
    udir = sdstate.unit_dir()
    if not (udir / name).is_file():
        print(f"Unit {name} could not be found.", file=sys.stderr)
        return 4
    if name.endswith(".timer"):
        return _timer_status(name)
    unit, _ = _load(name)
    state = sdstate.read_state(name)
    enabled, _ = is_enabled(name)
    dot = "●"
    print(f"{dot} {name} - {unit.description}")
    print(f"     Loaded: loaded ({unit.path}; {enabled}; preset: enabled)")
    if unit.dropins:
        first = True
        for d in unit.dropins:
            label = "    Drop-In:" if first else "            "
            print(f"{label} {d}")
            first = False
    since = f" since {_fmt_time(state.since)}" if state.since else ""
    result = f" (Result: {state.result})" if state.active == "failed" else ""
    print(f"     Active: {state.active} ({state.sub}){result}{since}")
    if state.main_pid:
        argv0 = (runtime.cmdline(state.main_pid) or ["?"])[0]
        print(f"   Main PID: {state.main_pid} ({Path(argv0).name})")
    log = sdstate.log_path(name)
    if log.is_file():
        lines = log.read_text(errors="replace").splitlines()[-10:]
        if lines:
            print()
            for line in lines:
                print(line)
    return 0 if state.active == "active" else 3


def _timer_status(name: str) -> int:
    try:
        timer, _ = _load_timer(name)
    except units.TimerError as exc:
        print(f"× {name}\n     Loaded: bad-setting ({sdstate.unit_dir() / name}; {exc})")
        return 3
    state = sdstate.read_state(name)
    enabled, _ = is_enabled(name)
    print(f"● {name} - {timer.description}")
    print(f"     Loaded: loaded ({timer.path}; {enabled}; preset: enabled)")
    since = f" since {_fmt_time(state.since)}" if state.since else ""
    print(f"     Active: {state.active} ({state.sub}){since}")
    nxt = timerd.timer_info(name)["next"] if state.active == "active" else None
    if nxt is not None:
        print(f"    Trigger: {_fmt_time(nxt)}; {_span(nxt - time.time())} left")
    print(f"   Triggers: ● {timer.unit}")
    return 0 if state.active == "active" else 3


SHOW: dict[str, Callable[[sdstate.State], str]] = {
    "ActiveState": lambda s: s.active,
    "SubState": lambda s: s.sub,
    "MainPID": lambda s: str(s.main_pid),
    "Result": lambda s: s.result,
    "ExecMainStatus": lambda s: str(s.exit_status),
    "NRestarts": lambda s: str(s.restarts),
}


def show(name: str, props: list[str], value_only: bool) -> int:
    name = units.normalize(name)
    state = sdstate.read_state(name)
    enabled, _ = is_enabled(name)
    loaded = "loaded" if (sdstate.unit_dir() / name).is_file() else "not-found"
    extra = {"UnitFileState": enabled, "LoadState": loaded, "Id": name}
    for prop in props or [*SHOW, *extra]:
        value = SHOW[prop](state) if prop in SHOW else extra.get(prop, "")
        print(value if value_only else f"{prop}={value}")
    return 0


def _when(ts: float | None) -> str:
    return "-" if ts is None else _fmt_time(ts)


def _span(seconds: float) -> str:
    seconds = abs(int(seconds))
    for unit, size in (("day", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            n = seconds // size
            return f"{n} {unit}{'s' if unit == 'day' and n > 1 else ''}"
    return f"{seconds}s"


def list_timers(show_all: bool) -> int:
    """``systemctl list-timers [--all]``: the active timers (every loaded one with --all),
    soonest first, with their next and last elapse."""
    udir = sdstate.unit_dir()
    rows: list[tuple[float, list[str]]] = []
    now = time.time()
    for name in units.unit_files(udir):
        if not name.endswith(".timer"):
            continue
        state = sdstate.read_state(name)
        if state.active != "active" and not show_all:
            continue
        try:
            timer, _ = _load_timer(name)
        except (units.UnitNotFound, units.TimerError):
            continue
        info = timerd.timer_info(name) if state.active == "active" else {"next": None}
        nxt, last = info["next"], timerd.timer_info(name)["last"]
        left = "-" if nxt is None else f"{_span(nxt - now)} left"
        passed = "-" if last is None else f"{_span(now - last)} ago"
        rows.append(
            (nxt or float("inf"), [_when(nxt), left, _when(last), passed, name, timer.unit])
        )
    rows.sort(key=lambda r: (r[0], r[1][4]))
    table = [["NEXT", "LEFT", "LAST", "PASSED", "UNIT", "ACTIVATES"], *(r[1] for r in rows)]
    widths = [max(len(row[i]) for row in table) for i in range(6)]
    for row in table:
        print(" ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    print(f"\n{len(rows)} timers listed.")
    if not show_all:
        print("Pass --all to see loaded but inactive timers, too.")
    return 0


USAGE = "systemctl [OPTIONS...] COMMAND ..."


def main(argv: list[str]) -> int:
    args = list(argv)
    now = quiet = value_only = show_all = False
    props: list[str] = []
    rest: list[str] = []
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--now":
            now = True
        elif a in ("-q", "--quiet"):
            quiet = True
        elif a == "--value":
            value_only = True
        elif a in ("-a", "--all"):
            show_all = True
        elif a in ("--no-pager", "--no-block", "-l", "--full", "--system", "--no-legend"):
            pass
        elif a in ("-p", "--property"):
            i += 1
            props += args[i].split(",") if i < len(args) else []
        elif a.startswith("--property="):
            props += a.split("=", 1)[1].split(",")
        elif a.startswith("-"):
            print(f"systemctl: unrecognized option '{a}'", file=sys.stderr)
            return 1
        else:
            rest.append(a)
        i += 1
    if not rest:
        print(f"usage: {USAGE}", file=sys.stderr)
        return 1
    verb, names = rest[0], rest[1:]
    if verb == "daemon-reload":
        daemon_reload()
        return 0
    if verb == "list-timers":
        return list_timers(show_all)
    if (
        verb
        in (
            "start",
            "stop",
            "restart",
            "enable",
            "disable",
            "reset-failed",
            "try-restart",
            "reload-or-restart",
            "is-active",
            "is-enabled",
            "is-failed",
            "status",
            "show",
        )
        and not names
        and verb not in ("status", "show")
    ):
        print("Too few arguments.", file=sys.stderr)
        return 1
    code = 0
    for name in names:
        norm = units.normalize(name)
        if verb == "start":
            code = start(norm) or code
        elif verb == "stop":
            code = stop(norm) or code
        elif verb in ("restart", "reload-or-restart", "try-restart"):
            if verb == "try-restart" and sdstate.read_state(norm).active != "active":
                continue
            stop(norm)
            code = start(norm) or code
        elif verb == "enable":
            code = enable(norm) or code
            if now and code == 0:
                code = start(norm)
        elif verb == "disable":
            code = disable(norm) or code
            if now and code == 0:
                code = stop(norm)
        elif verb == "is-active":
            state = sdstate.read_state(norm)
            if not quiet:
                print(state.active)
            code = code if state.active == "active" else 3
        elif verb == "is-failed":
            state = sdstate.read_state(norm)
            if not quiet:
                print(state.active)
            code = code if state.active == "failed" else 1
        elif verb == "is-enabled":
            text, rc = is_enabled(norm)
            if not text:
                print(
                    f"Failed to get unit file state for {norm}: No such file or directory",
                    file=sys.stderr,
                )
            elif not quiet:
                print(text)
            code = code or rc
        elif verb == "status":
            code = status(norm) or code
        elif verb == "show":
            code = show(norm, props, value_only) or code
        elif verb == "reset-failed":
            state = sdstate.read_state(norm)
            if state.active == "failed":
                sdstate.set_state(state, "inactive", "dead")
        else:
            print(f'Unknown command verb "{verb}".', file=sys.stderr)
            return 1
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
