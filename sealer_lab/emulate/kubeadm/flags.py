"""pflag-style parsing with cobra's/pflag's error messages."""

from __future__ import annotations

import builtins
from dataclasses import dataclass, field

from sealer_lab.emulate.kubeadm.errors import KubeadmError

__all__ = ["FlagSet", "Parsed"]

STRING, BOOL, SLICE, INT = "string", "bool", "strings", "int"
COMMON = {
    "v": INT,
    "help": BOOL,
    "rootfs": STRING,
    "log-file": STRING,
    "skip-headers": BOOL,
    "skip-log-headers": BOOL,
    "add-dir-header": BOOL,
    "one-output": BOOL,
    "log-flush-frequency": STRING,
}
SHORT = {"v": "v", "h": "help"}


@dataclass
class Parsed:
    values: dict[str, object] = field(default_factory=dict)
    args: list[str] = field(default_factory=list)
    set: set[str] = field(default_factory=set)

    def str(self, name: builtins.str, default: builtins.str = "") -> builtins.str:
        v = self.values.get(name, default)
        return v if isinstance(v, builtins.str) else default

    def bool(self, name: builtins.str, default: builtins.bool = False) -> builtins.bool:
        v = self.values.get(name, default)
        return v if isinstance(v, builtins.bool) else default

    def list(self, name: builtins.str) -> builtins.list[builtins.str]:
        v = self.values.get(name, [])
        return [str(x) for x in v] if isinstance(v, list) else []


def _parse_bool(flag: str, value: str) -> bool:
    lowered = value.lower()
    if lowered in ("1", "t", "true"):
        return True
    if lowered in ("0", "f", "false"):
        return False
    raise KubeadmError(
        f'invalid argument "{value}" for "--{flag}" flag: strconv.ParseBool: parsing '
        f'"{value}": invalid syntax'
    )


@dataclass
class FlagSet:
    flags: dict[str, str]
    short: dict[str, str] = field(default_factory=dict)

    def parse(self, argv: list[str]) -> Parsed:
        spec = {**COMMON, **self.flags}
        short = {**SHORT, **self.short}
        out = Parsed()
        i = 0
        while i < len(argv):
            a = argv[i]
            i += 1
            if a == "--":
                out.args += argv[i:]
                break
            if a.startswith("--"):
                name, eq, value = a[2:].partition("=")
                shown = f"--{name}"
            elif a.startswith("-") and len(a) > 1:
                letter, value = a[1], a[2:]
                eq = "=" if value else ""
                value = value.removeprefix("=")
                if letter not in short:
                    raise KubeadmError(f"unknown shorthand flag: '{letter}' in {a}")
                name = short[letter]
                shown = f"-{letter}"
            else:
                out.args.append(a)
                continue
            kind = spec.get(name)
            if kind is None:
                raise KubeadmError(f"unknown flag: {shown}")
            if kind == BOOL:
                out.values[name] = _parse_bool(name, value) if eq else True
            else:
                if not eq:
                    if i >= len(argv):
                        raise KubeadmError(f"flag needs an argument: {shown}")
                    value = argv[i]
                    i += 1
                if kind == SLICE:
                    current = out.values.get(name, [])
                    assert isinstance(current, list)
                    out.values[name] = current + [v for v in value.split(",") if v]
                elif kind == INT:
                    try:
                        out.values[name] = int(value)
                    except ValueError:
                        raise KubeadmError(
                            f'invalid argument "{value}" for "{shown}" flag: strconv.ParseInt: '
                            f'parsing "{value}": invalid syntax'
                        ) from None
                else:
                    out.values[name] = value
            out.set.add(name)
        return out
