"""The emulated systemd's runtime state: one JSON file per unit under /run/systemd-emu."""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from sealer_lab.emulate import runtime

__all__ = ["State", "read_state", "run_dir", "unit_dir", "write_state"]


def run_dir() -> Path:
    return Path(os.environ.get("SEALER_SYSTEMD_RUN", "/run/systemd-emu"))


def unit_dir() -> Path:
    return Path(os.environ.get("SEALER_SYSTEMD_UNITS", "/etc/systemd/system"))


@dataclass
class State:
    """What systemctl shows for a unit: ActiveState/SubState, pids, since, result."""

    unit: str
    active: str = "inactive"  # active | activating | deactivating | inactive | failed
    sub: str = "dead"  # running | auto-restart | start-pre | stop-sigterm | dead | failed
    supervisor_pid: int = 0
    supervisor_start: int = -1
    main_pid: int = 0
    since: float = 0.0
    result: str = "success"
    exit_status: int | None = None
    restarts: int = 0


def _path(unit: str) -> Path:
    return run_dir() / f"{unit}.state.json"


def log_path(unit: str) -> Path:
    return run_dir() / f"{unit}.log"


def read_state(unit: str) -> State:
    try:
        data = json.loads(_path(unit).read_text())
        state = State(**data)
    except (OSError, ValueError, TypeError):
        return State(unit=unit)
    if state.active in ("active", "activating", "deactivating") and not supervisor_alive(state):
        state.active, state.sub, state.main_pid = "failed", "failed", 0
        state.result = "signal" if state.result == "success" else state.result
    return state


def supervisor_alive(state: State) -> bool:
    return (
        state.supervisor_pid > 0
        and runtime.pid_alive(state.supervisor_pid)
        and runtime.start_time(state.supervisor_pid) == state.supervisor_start
    )


def write_state(state: State) -> None:
    path = _path(state.unit)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(asdict(state)))
    os.replace(tmp, path)


def set_state(state: State, active: str, sub: str) -> None:
    state.active, state.sub, state.since = active, sub, time.time()
    write_state(state)
