"""One timer's scheduler (the emulated systemd's part that elapses ``.timer`` units).

Started detached by ``systemctl start NAME.timer`` with the timer's loaded definition; the
timer is ``active (waiting)`` while it runs. At each elapse it records the time (in
``/var/lib/systemd/timers/stamp-NAME``, as systemd does for ``Persistent=true``) and starts
the unit the timer activates, as ``systemctl start`` would (a ``Type=oneshot`` service runs to
its end before the next elapse is computed). On start, a ``Persistent=true`` timer whose
stamp shows that a calendar elapse was missed while it was stopped elapses at once.

Test hook (the lab only, docs/lab-emulation.md): a file ``/run/systemd-emu/timers/
NAME.elapse`` makes the timer elapse now (the file is removed), so that a test can prove the
timer fires without waiting for the calendar.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import sys
import time
from pathlib import Path

from sealer_lab.emulate import oncalendar, runtime, sdstate, units

__all__ = ["elapse_hook", "main", "next_elapse", "stamp_path", "timer_info"]


class _Stop(Exception):
    pass


def state_dir() -> Path:
    return Path(os.environ.get("SEALER_SYSTEMD_STATE", "/var/lib/systemd"))


def stamp_path(name: str) -> Path:
    return state_dir() / "timers" / f"stamp-{name}"


def elapse_hook(name: str) -> Path:
    return sdstate.run_dir() / "timers" / f"{name}.elapse"


def _info_path(name: str) -> Path:
    return sdstate.run_dir() / "timers" / f"{name}.json"


def timer_info(name: str) -> dict[str, float | None]:
    """``{"next": epoch or None, "last": epoch or None}`` as the scheduler wrote it."""
    try:
        data = json.loads(_info_path(name).read_text())
    except (OSError, ValueError):
        return {"next": None, "last": None}
    return {"next": data.get("next"), "last": data.get("last")}


def _calendar_after(timer: units.Timer, after: float) -> float | None:
    when = dt.datetime.fromtimestamp(after, dt.UTC)
    found = [oncalendar.next_elapse(oncalendar.parse_calendar(c), when) for c in timer.on_calendar]
    times = [f.timestamp() for f in found if f is not None]
    return min(times) if times else None


def next_elapse(
    timer: units.Timer, now: float, started: float, boot: float, last: float | None
) -> float | None:
    """The next time the timer elapses after ``now`` (None: never again). Monotonic spans
    count from the timer's start (OnActiveSec=), the host's boot (OnBootSec=) and the last
    activation (OnUnitActiveSec=); a monotonic time already past does not elapse again."""
    times: list[float] = []
    calendar = _calendar_after(timer, now)
    if calendar is not None:
        times.append(calendar)
    for base, spans in ((started, timer.on_active_sec), (boot, timer.on_boot_sec)):
        times += [base + s for s in spans if base + s > now and (last is None or last < base + s)]
    if last is not None:
        times += [last + s for s in timer.on_unit_active_sec]
    return min(times) if times else None


def _boot_time() -> float:
    try:
        return (sdstate.run_dir() / "boot").stat().st_mtime
    except OSError:
        return time.time()


def _stamp(name: str) -> float | None:
    try:
        return stamp_path(name).stat().st_mtime
    except OSError:
        return None


def _write_info(name: str, nxt: float | None, last: float | None) -> None:
    path = _info_path(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps({"next": nxt, "last": last}))
    os.replace(tmp, path)


def _elapse(timer: units.Timer, log_line: str) -> float:
    from sealer_lab.emulate import systemctl  # systemctl imports this module

    now = time.time()
    stamp = stamp_path(timer.name)
    stamp.parent.mkdir(parents=True, exist_ok=True)
    stamp.touch()
    os.utime(stamp, (now, now))
    print(f"{timer.name}: {log_line}: starting {timer.unit}", file=sys.stderr, flush=True)
    code = systemctl.start(timer.unit)
    if code:
        print(f"{timer.name}: {timer.unit} failed (status {code})", file=sys.stderr, flush=True)
    return now


def main(argv: list[str]) -> int:
    timer = units.timer_from_dict(json.loads(argv[1]))
    state = sdstate.read_state(timer.name)
    state.supervisor_pid = os.getpid()
    state.supervisor_start = runtime.start_time(os.getpid())
    state.result, state.exit_status, state.main_pid = "success", None, 0

    def on_term(_signo: int, _frame: object) -> None:
        raise _Stop

    signal.signal(signal.SIGTERM, on_term)
    started, boot = time.time(), _boot_time()
    last = _stamp(timer.name)
    hook = elapse_hook(timer.name)
    try:
        sdstate.set_state(state, "active", "waiting")
        if timer.persistent and last is not None:
            missed = _calendar_after(timer, last)
            if missed is not None and missed <= started:
                last = _elapse(timer, "Persistent=true: an elapse was missed")
        while True:
            now = time.time()
            nxt = next_elapse(timer, now, started, boot, last)
            _write_info(timer.name, nxt, last)
            sdstate.set_state(state, "active", "waiting" if nxt is not None else "elapsed")
            while nxt is None or time.time() < nxt:
                if hook.exists():
                    hook.unlink(missing_ok=True)
                    break
                time.sleep(1.0 if nxt is None else max(0.0, min(1.0, nxt - time.time())))
            last = _elapse(timer, "elapsed")
    except _Stop:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        sdstate.set_state(state, "inactive", "dead")
        return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
