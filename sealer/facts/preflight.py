"""Read-only facts the preflight checks use: swap, kernel modules, sysctls, listening ports,
machine-id, clock, free disk, cgroup version, programs on the PATH.

Each is one command plus a pure parser, read in the same batch as the host's other facts
(:data:`PREFLIGHT_FACTS`, see :func:`sealer.facts.base.collect_many`), so preflight costs no
extra round trip. What the facts mean for a host (an error, a warning, a fix) is decided by the
planner (:mod:`sealer.plan.preflight`); nothing here judges.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sealer.connect import Result, builtin_argv
from sealer.facts.base import Fact, UnexpectedExit, command_missing, require_ok

__all__ = [
    "CHECKED_COMMANDS",
    "CHECKED_SYSCTLS",
    "PREFLIGHT_FACTS",
    "REQUIRED_MODULES",
    "RUNTIME_COMMANDS",
    "DiskFree",
    "HostPreflight",
    "parse_cgroup_fs",
    "parse_clock",
    "parse_command_path",
    "parse_df",
    "parse_listening",
    "parse_lsmod",
    "parse_machine_id",
    "parse_swaps",
    "parse_sysctls",
    "preflight_of",
]

#: Kernel modules kubeadm's hosts need (containerd's overlayfs snapshotter, bridged traffic
#: seen by iptables/nftables).
REQUIRED_MODULES: tuple[str, ...] = ("overlay", "br_netfilter")
#: The sysctls that must be "1" (kubeadm's preflight checks both).
CHECKED_SYSCTLS: tuple[str, ...] = ("net.ipv4.ip_forward", "net.bridge.bridge-nf-call-iptables")
#: Programs the steps run (each read with ``command -v``: dash prints only its first argument).
CHECKED_COMMANDS: tuple[str, ...] = ("tar", "sha256sum", "python3", "conntrack", "nft", "ipvsadm")
#: A kubelet or container runtime that sealer's package did not install.
RUNTIME_COMMANDS: tuple[str, ...] = ("kubelet", "containerd", "dockerd", "crio")


def parse_swaps(result: Result) -> tuple[str, ...]:
    """``swapon --show=NAME --noheadings --raw``: the active swap areas, one per line (no
    output when swap is off)::

        /swapfile
        /dev/vda3
    """
    return tuple(line.strip() for line in require_ok(result).splitlines() if line.strip())


swaps: Fact[tuple[str, ...]] = Fact(
    "swap areas", ("swapon", "--show=NAME", "--noheadings", "--raw"), parse_swaps
)


def parse_lsmod(result: Result) -> frozenset[str]:
    """``lsmod``: the loaded modules (its first column, after the header)::

    Module                  Size  Used by
    br_netfilter           32768  0
    overlay               151552  0
    """
    names = set()
    for number, line in enumerate(require_ok(result).splitlines()):
        fields = line.split()
        if not fields or (number == 0 and fields[0] == "Module"):
            continue
        names.add(fields[0])
    return frozenset(names)


loaded_modules: Fact[frozenset[str]] = Fact("loaded kernel modules", ("lsmod",), parse_lsmod)


def parse_builtin_modules(result: Result) -> frozenset[str]:
    """``uname -r`` then ``modules.builtin`` of that kernel, in one ``sh -c``: the modules
    built into the kernel (lsmod does not list them), from paths such as
    ``kernel/fs/overlayfs/overlay.ko``. A missing file (exit 1) means none are known."""
    if result.exit_status not in (0, 1):
        raise UnexpectedExit(result)
    names = set()
    for line in result.stdout.splitlines():
        base = line.strip().rsplit("/", 1)[-1]
        if base.endswith(".ko"):
            names.add(base[: -len(".ko")].replace("-", "_"))
    return frozenset(names)


builtin_modules: Fact[frozenset[str]] = Fact(
    "built-in kernel modules",
    ("sh", "-c", 'cat -- "/lib/modules/$(uname -r)/modules.builtin" 2>/dev/null || exit 1'),
    parse_builtin_modules,
)


def parse_sysctls(result: Result) -> dict[str, str]:
    """``sysctl KEY...``: ``key = value`` per key it could read. A key that does not exist
    (``net.bridge.*`` before br_netfilter is loaded) is only named on stderr, with exit 255::

        net.ipv4.ip_forward = 1
    """
    if result.exit_status not in (0, 255):
        raise UnexpectedExit(result)
    found: dict[str, str] = {}
    for line in result.stdout.splitlines():
        key, sep, value = line.partition(" = ")
        if sep:
            found[key.strip()] = value.strip()
    return found


sysctls: Fact[dict[str, str]] = Fact("sysctls", ("sysctl", *CHECKED_SYSCTLS), parse_sysctls)

_USERS = re.compile(r'\(\("([^"]+)",pid=(\d+)')


def parse_listening(result: Result) -> dict[int, str]:
    """``ss -Htlnp``: TCP port -> who listens on it ("" when ss cannot say)::

    LISTEN 0 4096 0.0.0.0:6443 0.0.0.0:* users:(("python3",pid=812,fd=3))
    LISTEN 0 128     [::]:22      [::]:*
    """
    ports: dict[int, str] = {}
    for line in require_ok(result).splitlines():
        fields = line.split()
        if len(fields) < 4 or fields[0] == "State":  # an ss too old for -H prints a header
            continue
        local = fields[3]
        _, sep, port = local.rpartition(":")
        if not sep or not port.isdigit():
            raise ValueError(f"unexpected local address {local!r}")
        match = _USERS.search(line)
        who = f"{match.group(1)} (pid {match.group(2)})" if match else ""
        ports.setdefault(int(port), who)
    return ports


listening: Fact[dict[int, str]] = Fact("listening TCP ports", ("ss", "-Htlnp"), parse_listening)


def parse_machine_id(result: Result) -> str | None:
    """``cat /etc/machine-id``: 32 hex digits; None when the file is missing or empty."""
    if result.exit_status != 0:
        if "No such file or directory" in result.stderr:
            return None
        raise UnexpectedExit(result)
    return result.stdout.strip() or None


machine_id: Fact[str | None] = Fact(
    "machine-id", ("cat", "--", "/etc/machine-id"), parse_machine_id, sudo=False
)


def parse_clock(result: Result) -> float:
    """``date +%s.%N``: the host's clock in seconds since the epoch::

    1796186276.459672992
    """
    return float(require_ok(result).strip())


clock: Fact[float] = Fact("clock", ("date", "+%s.%N"), parse_clock, sudo=False)


@dataclass(frozen=True)
class DiskFree:
    """Free space (bytes) where the package is unpacked and where etcd keeps its data."""

    package: int
    etcd: int


def parse_df(result: Result) -> DiskFree:
    """``df -Pk -- /var/lib /var/lib/etcd``: one row per path; when /var/lib/etcd does not
    exist yet (exit 1, only /var/lib's row) etcd will write on /var/lib's file system::

    Filesystem     1024-blocks     Used Available Capacity Mounted on
    /dev/vda         264212084 27051612  79339300      26% /
    /dev/vdb          10255636    24580   9690384       1% /var/lib/etcd
    """
    rows = [line.split() for line in result.stdout.splitlines()[1:] if line.strip()]
    if result.exit_status not in (0, 1) or not rows:
        raise UnexpectedExit(result)
    free = [int(row[3]) * 1024 for row in rows]
    if result.exit_status == 1 and len(rows) != 1:
        raise UnexpectedExit(result)
    return DiskFree(package=free[0], etcd=free[1] if len(free) > 1 else free[0])


disk_free: Fact[DiskFree] = Fact(
    "free disk", ("df", "-Pk", "--", "/var/lib", "/var/lib/etcd"), parse_df, sudo=False
)


def parse_cgroup_fs(result: Result) -> int:
    """``stat -fc %T /sys/fs/cgroup``: ``cgroup2fs`` is cgroup v2; ``tmpfs`` (v1 controllers
    mounted below it) is cgroup v1."""
    kind = require_ok(result).strip()
    if kind == "cgroup2fs":
        return 2
    if kind in ("tmpfs", "cgroupfs"):
        return 1
    raise ValueError(f"unexpected file system type {kind!r} on /sys/fs/cgroup")


cgroup_version: Fact[int] = Fact(
    "cgroup version", ("stat", "-fc", "%T", "/sys/fs/cgroup"), parse_cgroup_fs, sudo=False
)


def parse_command_path(result: Result) -> str | None:
    """``sh -c 'command -v NAME'``: the program's path, None when it is not on the PATH."""
    if result.exit_status == 1 and not result.stdout.strip():
        return None
    if command_missing(result):
        return None
    path = require_ok(result).strip()
    if not path:
        raise ValueError("command -v printed nothing")
    return path


def _which(name: str) -> Fact[str | None]:
    return Fact(f"path of {name}", tuple(builtin_argv("command", "-v", name)), parse_command_path)


@dataclass(frozen=True)
class HostPreflight:
    """What the preflight checks read on one host (see :mod:`sealer.plan.preflight`)."""

    swaps: tuple[str, ...]
    modules: frozenset[str]  # loaded or built in
    sysctls: tuple[tuple[str, str], ...]  # (key, value) of the keys that exist
    listening: tuple[tuple[int, str], ...]  # (port, who), sorted
    machine_id: str | None
    clock_skew: float  # host clock minus the workstation's, seconds
    clock_uncertainty: float  # half the time the read took, seconds
    disk: DiskFree
    cgroup_version: int
    commands: tuple[tuple[str, str], ...]  # (name, path) of CHECKED_COMMANDS found
    runtimes: tuple[tuple[str, str], ...]  # (name, path) of RUNTIME_COMMANDS found

    def sysctl(self, key: str) -> str | None:
        return dict(self.sysctls).get(key)

    def command(self, name: str) -> str | None:
        return dict(self.commands).get(name) or dict(self.runtimes).get(name)


#: The preflight facts, in the order :func:`preflight_of` reads their results.
PREFLIGHT_FACTS: tuple[Fact[Any], ...] = (
    swaps,
    loaded_modules,
    builtin_modules,
    sysctls,
    listening,
    machine_id,
    clock,
    disk_free,
    cgroup_version,
    *(_which(name) for name in CHECKED_COMMANDS),
    *(_which(name) for name in RUNTIME_COMMANDS),
)


def preflight_of(found: list[Any], started: float, ended: float) -> HostPreflight:
    """The :class:`HostPreflight` of the parsed :data:`PREFLIGHT_FACTS` results (``found``, in
    order), read between the workstation times ``started`` and ``ended`` (seconds since the
    epoch): the host's clock is compared with their middle."""
    swap, loaded, builtin, sysctl_values, ports, mid, host_clock, disk, cgroup = found[:9]
    paths = found[9:]
    n = len(CHECKED_COMMANDS)
    commands = tuple((c, p) for c, p in zip(CHECKED_COMMANDS, paths[:n], strict=True) if p)
    runtimes = tuple((c, p) for c, p in zip(RUNTIME_COMMANDS, paths[n:], strict=True) if p)
    return HostPreflight(
        swaps=swap,
        modules=loaded | builtin,
        sysctls=tuple(sorted(sysctl_values.items())),
        listening=tuple(sorted(ports.items())),
        machine_id=mid,
        clock_skew=host_clock - (started + ended) / 2,
        clock_uncertainty=(ended - started) / 2,
        disk=disk,
        cgroup_version=cgroup,
        commands=commands,
        runtimes=runtimes,
    )
