"""systemd unit files: parsing, drop-ins, environment and ExecStart expansion (pure functions).

Follows systemd.unit(5)/systemd.exec(5)/systemd.service(5) for the subset the lab uses: sections
[Unit] [Service] [Install], backslash continuation, ``#``/``;`` comments, drop-ins
``<unit>.d/*.conf`` applied in file-name order, an empty assignment resetting a list
(``ExecStart=``),
``Environment=`` with quoted assignments, ``EnvironmentFile=`` (``-`` prefix: optional),
``$VAR`` as a whole word split on white space and ``${VAR}`` substituted inside a word.
"""

from __future__ import annotations

import hashlib
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sealer_lab.emulate.oncalendar import CalendarError, parse_calendar

__all__ = [
    "Timer",
    "TimerError",
    "Unit",
    "UnitNotFound",
    "expand_exec",
    "fingerprint",
    "load_timer",
    "load_unit",
    "normalize",
    "parse_env_file",
    "timer_from_dict",
    "unit_files",
    "unit_from_dict",
]

UNIT_DIR = Path("/etc/systemd/system")
LIST_KEYS = {
    "ExecStart",
    "ExecStartPre",
    "ExecStartPost",
    "ExecStop",
    "Environment",
    "EnvironmentFile",
    "After",
    "Before",
    "Wants",
    "Requires",
    "WantedBy",
    "RequiredBy",
    "OnCalendar",
    "OnActiveSec",
    "OnBootSec",
    "OnStartupSec",
    "OnUnitActiveSec",
    "OnUnitInactiveSec",
}


class UnitNotFound(Exception):
    """No such unit file."""


@dataclass(frozen=True)
class Unit:
    """The settings of one service unit that the emulated systemd honours."""

    name: str
    path: str
    dropins: tuple[str, ...] = ()
    description: str = ""
    after: tuple[str, ...] = ()
    before: tuple[str, ...] = ()
    exec_start: tuple[str, ...] = ()
    exec_start_pre: tuple[str, ...] = ()
    environment: tuple[str, ...] = ()
    environment_files: tuple[str, ...] = ()
    restart: str = "no"
    restart_sec: float = 0.1
    timeout_stop_sec: float = 90.0
    start_limit_interval: float = 10.0
    start_limit_burst: int = 5
    wanted_by: tuple[str, ...] = ()
    working_directory: str = ""
    extra: dict[str, str] = field(default_factory=dict)


def unit_from_dict(data: dict[str, Any]) -> Unit:
    """A Unit back from its JSON form (lists become tuples again)."""
    fixed: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
    return Unit(**fixed)


def normalize(name: str) -> str:
    return name if "." in name else f"{name}.service"


def unit_files(unit_dir: Path = UNIT_DIR) -> list[str]:
    if not unit_dir.is_dir():
        return []
    return sorted(
        p.name
        for p in unit_dir.iterdir()
        if p.name.endswith((".service", ".timer")) and p.is_file()
    )


def _lines(text: str) -> list[str]:
    out: list[str] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line[0] in "#;"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        out.append(pending + line)
        pending = ""
    if pending:
        out.append(pending)
    return out


def _parse_into(text: str, settings: dict[str, list[str]]) -> None:
    section = ""
    for line in _lines(text):
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
            continue
        if "=" not in line:
            continue
        key, _, value = line.partition("=")
        key = f"{section}.{key.strip()}"
        value = value.strip()
        if key.split(".", 1)[1] in LIST_KEYS:
            if value == "":
                settings[key] = []
            else:
                settings.setdefault(key, []).append(value)
        else:
            settings[key] = [value]


def _seconds(value: str, default: float) -> float:
    value = value.strip()
    if not value:
        return default
    if value == "infinity":
        return 1e9
    m = re.fullmatch(r"(\d+(?:\.\d+)?)\s*(ms|s|sec|min|m)?", value)
    if not m:
        return default
    number = float(m.group(1))
    unit = m.group(2) or "s"
    return number / 1000 if unit == "ms" else number * 60 if unit in ("min", "m") else number


def load_unit(name: str, unit_dir: Path = UNIT_DIR) -> Unit:
    name = normalize(name)
    path = unit_dir / name
    if not path.is_file():
        raise UnitNotFound(name)
    settings: dict[str, list[str]] = {}
    _parse_into(path.read_text(), settings)
    dropin_dir = unit_dir / f"{name}.d"
    dropins: list[str] = []
    if dropin_dir.is_dir():
        for conf in sorted(dropin_dir.glob("*.conf")):
            dropins.append(str(conf))
            _parse_into(conf.read_text(), settings)

    def one(key: str, default: str = "") -> str:
        values = settings.get(key)
        return values[-1] if values else default

    def words(key: str) -> tuple[str, ...]:
        return tuple(w for v in settings.get(key, []) for w in v.split())

    known = {
        "Unit.Description",
        "Unit.After",
        "Unit.Before",
        "Service.ExecStart",
        "Service.ExecStartPre",
        "Service.Environment",
        "Service.EnvironmentFile",
        "Service.Restart",
        "Service.RestartSec",
        "Service.TimeoutStopSec",
        "Install.WantedBy",
        "Service.WorkingDirectory",
    }
    burst = one("Unit.StartLimitBurst", one("Service.StartLimitBurst", "5"))
    return Unit(
        name=name,
        path=str(path),
        dropins=tuple(dropins),
        description=one("Unit.Description"),
        after=words("Unit.After"),
        before=words("Unit.Before"),
        exec_start=tuple(settings.get("Service.ExecStart", [])),
        exec_start_pre=tuple(settings.get("Service.ExecStartPre", [])),
        environment=tuple(settings.get("Service.Environment", [])),
        environment_files=tuple(settings.get("Service.EnvironmentFile", [])),
        restart=one("Service.Restart", "no"),
        restart_sec=_seconds(one("Service.RestartSec"), 0.1),
        timeout_stop_sec=_seconds(one("Service.TimeoutStopSec"), 90.0),
        start_limit_interval=_seconds(
            one("Unit.StartLimitIntervalSec", one("Service.StartLimitInterval")), 10.0
        ),
        start_limit_burst=int(burst) if burst.isdigit() else 5,
        wanted_by=words("Install.WantedBy"),
        working_directory=one("Service.WorkingDirectory"),
        extra={k: v[-1] for k, v in settings.items() if k not in known and v},
    )


def fingerprint(name: str, unit_dir: Path = UNIT_DIR) -> str:
    """A hash of the unit file and its drop-ins (to tell that they changed on disk)."""
    name = normalize(name)
    h = hashlib.sha256()
    paths = [unit_dir / name]
    dropin_dir = unit_dir / f"{name}.d"
    if dropin_dir.is_dir():
        paths += sorted(dropin_dir.glob("*.conf"))
    for p in paths:
        h.update(str(p).encode())
        h.update(p.read_bytes() if p.is_file() else b"-")
    return h.hexdigest()


def parse_env_file(text: str) -> dict[str, str]:
    env: dict[str, str] = {}
    for line in _lines(text):
        if "=" not in line:
            continue
        key, _, value = line.partition("=")
        key = key.strip()
        if key.startswith("export "):
            key = key[len("export ") :].strip()
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        env[key] = value
    return env


def environment(unit: Unit) -> dict[str, str]:
    """Environment= then EnvironmentFile= (read now, as systemd does at each start)."""
    env: dict[str, str] = {}
    for assignment in unit.environment:
        for word in shlex.split(assignment):
            key, sep, value = word.partition("=")
            if sep:
                env[key] = value
    for spec in unit.environment_files:
        optional = spec.startswith("-")
        path = Path(spec[1:] if optional else spec)
        try:
            env.update(parse_env_file(path.read_text()))
        except OSError:
            if not optional:
                raise
    return env


_WHOLE = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
_BRACED = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def expand_exec(line: str, env: dict[str, str]) -> tuple[list[str], bool]:
    """An ExecStart= line to argv; returns (argv, ignore_failure) after the ``-`` prefix."""
    ignore = False
    while line and line[0] in "-@+!:":
        ignore = ignore or line[0] == "-"
        line = line[1:]
    argv: list[str] = []
    for word in shlex.split(line):
        whole = _WHOLE.fullmatch(word)
        if whole:
            argv.extend(env.get(whole.group(1), "").split())
            continue
        argv.append(_BRACED.sub(lambda m: env.get(m.group(1), ""), word))
    return argv, ignore


# -- timers (systemd.timer(5)) ----------------------------------------------------------------


class TimerError(Exception):
    """A timer unit systemd refuses to load (the message is systemd's)."""


@dataclass(frozen=True)
class Timer:
    """The settings of one ``.timer`` unit that the emulated systemd honours: calendar events
    (kept as text, parsed by :mod:`calendar`), monotonic spans in seconds, ``Persistent=``,
    the unit it activates."""

    name: str
    path: str
    unit: str
    description: str = ""
    on_calendar: tuple[str, ...] = ()
    on_active_sec: tuple[float, ...] = ()
    on_boot_sec: tuple[float, ...] = ()
    on_unit_active_sec: tuple[float, ...] = ()
    persistent: bool = False
    wanted_by: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()


def timer_from_dict(data: dict[str, Any]) -> Timer:
    fixed: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
    return Timer(**fixed)


_SPAN_UNITS = {
    "us": 1e-6, "usec": 1e-6, "ms": 1e-3, "msec": 1e-3, "": 1.0, "s": 1.0, "sec": 1.0,
    "second": 1.0, "seconds": 1.0, "m": 60.0, "min": 60.0, "minute": 60.0, "minutes": 60.0,
    "h": 3600.0, "hr": 3600.0, "hour": 3600.0, "hours": 3600.0, "d": 86400.0, "day": 86400.0,
    "days": 86400.0, "w": 604800.0, "week": 604800.0, "weeks": 604800.0,
}  # fmt: skip
_SPAN_PART = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([a-z]*)")


def timespan(text: str) -> float:
    """A systemd time span (``90``, ``15min``, ``1h 30min``) in seconds; ValueError if not."""
    rest, total, parts = text.strip(), 0.0, 0
    while rest:
        m = _SPAN_PART.match(rest)
        if m is None or m.group(2) not in _SPAN_UNITS:
            raise ValueError(text)
        total += float(m.group(1)) * _SPAN_UNITS[m.group(2)]
        rest = rest[m.end() :].lstrip()
        parts += 1
    if not parts:
        raise ValueError(text)
    return total


_BOOL = {"1": True, "yes": True, "true": True, "on": True,
         "0": False, "no": False, "false": False, "off": False}  # fmt: skip


def load_timer(name: str, unit_dir: Path = UNIT_DIR) -> Timer:
    """Parse ``name`` (a ``.timer``) as systemd loads it: a bad value is ignored with a warning
    (kept in ``warnings``), and a timer left without any trigger, with an unknown ``Unit=``
    suffix or a bad ``Persistent=`` is refused (:class:`TimerError`)."""
    path = unit_dir / name
    if not path.is_file():
        raise UnitNotFound(name)
    settings: dict[str, list[str]] = {}
    _parse_into(path.read_text(), settings)
    dropin_dir = unit_dir / f"{name}.d"
    if dropin_dir.is_dir():
        for conf in sorted(dropin_dir.glob("*.conf")):
            _parse_into(conf.read_text(), settings)
    warnings: list[str] = []
    calendars: list[str] = []
    for value in settings.get("Timer.OnCalendar", []):
        try:
            parse_calendar(value)
        except CalendarError as exc:
            warnings.append(f"{path}: {exc}")
            continue
        calendars.append(value)

    def spans(key: str) -> tuple[float, ...]:
        out: list[float] = []
        for value in settings.get(f"Timer.{key}", []):
            try:
                out.append(timespan(value))
            except ValueError:
                warnings.append(f"{path}: Failed to parse timer value, ignoring: {value}")
        return tuple(out)

    active, boot, unit_active = spans("OnActiveSec"), spans("OnBootSec"), spans("OnUnitActiveSec")
    boot += spans("OnStartupSec")
    for unsupported in ("OnUnitInactiveSec", "OnClockChange", "OnTimezoneChange"):
        if settings.get(f"Timer.{unsupported}"):
            raise TimerError(f"{name}: {unsupported}= is not supported by the lab")
    if not (calendars or active or boot or unit_active):
        raise TimerError(
            "\n".join([*warnings, f"{name}: Timer unit lacks value setting. Refusing."])
        )
    target = (settings.get("Timer.Unit") or [""])[-1] or name.removesuffix(".timer") + ".service"
    if target.endswith(".timer") or "." not in target:
        raise TimerError(f"{name}: Failed to parse unit name {target!r}, refusing.")
    persistent_text = (settings.get("Timer.Persistent") or ["no"])[-1].lower()
    if persistent_text not in _BOOL:
        warnings.append(f"{path}: Failed to parse boolean value, ignoring: {persistent_text}")
    return Timer(
        name=name,
        path=str(path),
        unit=target,
        description=(settings.get("Unit.Description") or [""])[-1],
        on_calendar=tuple(calendars),
        on_active_sec=active,
        on_boot_sec=boot,
        on_unit_active_sec=unit_active,
        persistent=_BOOL.get(persistent_text, False),
        wanted_by=tuple(w for v in settings.get("Install.WantedBy", []) for w in v.split()),
        warnings=tuple(warnings),
    )
