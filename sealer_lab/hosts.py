"""The lab: bring hosts up, report on them, reboot one, run a command in one, take it all down.

A host is a network namespace on the lab's bridge plus a PID, mount, UTS and IPC namespace
whose PID 1 is tini running :mod:`sealer_lab.hostinit` (which starts sshd and the boot hook).
This module knows nothing about Kubernetes.
"""

from __future__ import annotations

import fcntl
import hashlib
import ipaddress
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sealer.errors import LabError
from sealer_lab import etc_hosts, hostinit, netns
from sealer_lab.clusterfile import render_clusterfile
from sealer_lab.hostfs import PRIVATE_DIRS, HostFiles, interpreter_paths, prepare_host
from sealer_lab.local import describe, run
from sealer_lab.sshd import generate_key, hash_password
from sealer_lab.state import (
    HostState,
    LabState,
    Role,
    bridge_name,
    host_name,
    host_netns_pattern,
    lab_dir,
    lab_id,
    lab_root,
    load_state,
    netns_name,
    nft_table_name,
    save_state,
    validate_lab_name,
    veth_name,
)
from sealer_lab.subnet import choose_subnet, subnet_lock

__all__ = [
    "HostStatus",
    "Lab",
    "down",
    "get",
    "reboot",
    "status",
    "up",
]

SESSION_ENV = {
    "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "HOME": "/root",
    "LANG": "C.UTF-8",
    "USER": "root",
    "LOGNAME": "root",
}
BOOT_TIMEOUT = 90.0
_USER_RE = re.compile(r"[a-z_][a-z0-9_-]{0,31}")
_RATE_RE = re.compile(r"[0-9]+(\.[0-9]+)?([kmgt]?(bit|bps))", re.IGNORECASE)


@dataclass(frozen=True)
class HostStatus:
    """What ``sealer lab status`` reports for one host."""

    name: str
    role: Role
    address: str
    netns: str
    ssh_port: int
    init_pid: int | None
    sshd: bool

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "role": self.role,
            "address": self.address,
            "netns": self.netns,
            "ssh_port": self.ssh_port,
            "init_pid": self.init_pid,
            "sshd": self.sshd,
        }


@dataclass(frozen=True)
class Lab:
    """A lab as saved, with the paths and helpers tests and other modules need."""

    state: LabState
    dir: Path

    @property
    def name(self) -> str:
        return self.state.name

    @property
    def hosts(self) -> tuple[HostState, ...]:
        return self.state.hosts

    @property
    def masters(self) -> list[HostState]:
        return [h for h in self.state.hosts if h.role == "master"]

    @property
    def nodes(self) -> list[HostState]:
        return [h for h in self.state.hosts if h.role == "node"]

    @property
    def sbin_dir(self) -> Path:
        """Lab-wide directory, read-only at /usr/local/sbin inside every host."""
        return self.dir / "sbin"

    @property
    def key_path(self) -> Path:
        return self.dir / "id_ed25519"

    @property
    def known_hosts(self) -> Path:
        return self.dir / "known_hosts"

    @property
    def clusterfile(self) -> Path | None:
        return None if self.state.clusterfile is None else Path(self.state.clusterfile)

    @property
    def password(self) -> str | None:
        """The root (and sudo user) password when password login is on; never printed."""
        path = self.dir / "password"
        return path.read_text().strip() if path.exists() else None

    def host(self, key: str) -> HostState:
        """A host by name, address or short name (``master-1``)."""
        for h in self.state.hosts:
            if key in (h.name, h.address, f"{h.role}-{h.index}"):
                return h
        raise LabError(f"lab {self.name} has no host {key!r}")

    def host_dir(self, host: HostState) -> Path:
        return self.dir / "hosts" / host.name

    def init_pid(self, host: HostState) -> int | None:
        return netns.host_init_pid(host.netns)

    def exec_argv(self, host: HostState | str, argv: Sequence[str]) -> list[str]:
        """An argv that runs ``argv`` inside the host's namespaces (nsenter, no SSH)."""
        h = self.host(host) if isinstance(host, str) else host
        pid = self.init_pid(h)
        if pid is None:
            raise LabError(f"host {h.name} of lab {self.name} is not running")
        enter = ["nsenter", "-t", str(pid), "-m", "-u", "-i", "-n", "-p", "--wd=/root"]
        return [*enter, "--", *argv]

    def ssh_argv(self, host: HostState | str, argv: Sequence[str], user: str = "root") -> list[str]:
        """The OpenSSH client argv that runs ``argv`` on the host with the lab's key."""
        h = self.host(host) if isinstance(host, str) else host
        return [
            *("ssh", "-i", str(self.key_path), "-p", str(h.ssh_port)),
            *("-o", f"UserKnownHostsFile={self.known_hosts}", "-o", "StrictHostKeyChecking=yes"),
            *("-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", f"{user}@{h.address}"),
            *("--", describe(argv)),
        ]

    def run(
        self,
        host: HostState | str,
        argv: Sequence[str],
        *,
        check: bool = True,
        input: str | None = None,
        timeout: float | None = 60.0,
    ) -> subprocess.CompletedProcess[str]:
        """Run ``argv`` inside a host as root with a login-like environment; capture output."""
        h = self.host(host) if isinstance(host, str) else host
        return run(
            self.exec_argv(h, argv),
            check=check,
            input=input,
            env=SESSION_ENV,
            timeout=timeout,
            where=h.name,
        )


# --- helpers ---------------------------------------------------------------------------------


@contextmanager
def _lab_lock(directory: Path) -> Iterator[None]:
    directory.mkdir(parents=True, exist_ok=True)
    with (directory / ".lock").open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _other_labs_subnets(name: str) -> set[str]:
    claimed: set[str] = set()
    root = lab_root()
    if not root.is_dir():
        return claimed
    for entry in root.iterdir():
        if entry.name == name or not (entry / "state.json").exists():
            continue
        try:
            other = load_state(entry.name)
        except LabError:
            continue
        if other is not None:
            claimed.add(other.subnet)
    return claimed


def _sshd_answers(address: str, port: int, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((address, port), timeout=timeout) as sock:
            sock.settimeout(timeout)
            return sock.recv(64).startswith(b"SSH-")
    except OSError:
        return False


def _spawn_host(directory: Path, host: HostState) -> None:
    """Start the host's tini + init, detached from this process (double fork via setsid)."""
    hd = directory / "hosts" / host.name
    argv = [
        "setsid",
        "--fork",
        "nsenter",
        f"--net={netns.NETNS_DIR / host.netns}",
        "unshare",
        "--pid",
        "--fork",
        "--mount-proc",
        "--uts",
        "--ipc",
        "--propagation",
        "private",
        "tini",
        "--",
        sys.executable,
        "-I",
        os.path.realpath(hostinit.__file__),
        str(hd / "boot.json"),
    ]
    with (hd / "console.log").open("ab") as log:
        subprocess.run(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            cwd="/",
            env={"PATH": SESSION_ENV["PATH"], "LANG": "C.UTF-8"},
            check=True,
        )


def _console_tail(directory: Path, host: HostState) -> str:
    try:
        lines = (directory / "hosts" / host.name / "console.log").read_text().splitlines()
    except FileNotFoundError:
        return "no console output"
    return " | ".join(lines[-3:]) or "no console output"


def _wait_for_sshd(directory: Path, hosts: Sequence[HostState]) -> None:
    pending = list(hosts)
    start = time.monotonic()
    deadline = start + BOOT_TIMEOUT
    while pending:
        pending = [h for h in pending if not _sshd_answers(h.address, h.ssh_port, 0.5)]
        if not pending:
            return
        dead = [h for h in pending if netns.host_init_pid(h.netns) is None]
        if dead and time.monotonic() > start + 5:
            h = dead[0]
            raise LabError(
                f"host {h.name} did not boot: {_console_tail(directory, h)}",
                hint=f"see {directory / 'hosts' / h.name / 'console.log'}",
            )
        if time.monotonic() > deadline:
            names = ", ".join(h.name for h in pending)
            raise LabError(f"sshd did not answer within {BOOT_TIMEOUT:.0f} s on {names}")
        time.sleep(0.1)


def _write_known_hosts(directory: Path, state: LabState) -> None:
    lines = []
    for h in state.hosts:
        pub = directory / "hosts" / h.name / "upper/etc/ssh/ssh_host_ed25519_key.pub"
        kind, key = pub.read_text().split()[:2]
        names = (h.address, h.name)  # the name too: /etc/hosts resolves it (etc_hosts.py)
        where = ",".join(n if h.ssh_port == 22 else f"[{n}]:{h.ssh_port}" for n in names)
        lines.append(f"{where} {kind} {key}")
    (directory / "known_hosts").write_text("\n".join(lines) + "\n")


def _write_hosts_blocks(state: LabState) -> None:
    """The lab's block (every host's name and address) in the machine's /etc/hosts and in each
    host's own /etc/hosts (through its init's root: the host's mount namespace)."""
    entries = [(h.address, h.name) for h in state.hosts]

    def edit(text: str) -> str:
        return etc_hosts.set_block(text, state.name, entries)

    etc_hosts.update_file(etc_hosts.WORKSTATION_HOSTS, edit)
    for h in state.hosts:
        pid = netns.host_init_pid(h.netns)
        if pid is None:
            raise LabError(f"host {h.name} stopped while its /etc/hosts was being written")
        etc_hosts.update_file(Path(f"/proc/{pid}/root/etc/hosts"), edit)


def _new_state(name: str, version: str) -> LabState:
    bridge = bridge_name(name)
    if netns.link_exists(bridge):
        raise LabError(
            f"bridge {bridge} of a lab named {name} exists but {lab_dir(name)} has no state "
            "(a crashed lab, or one under another SEALER_LAB_DIR)",
            hint=f"run `sealer lab down --name {name}` first",
        )
    with subnet_lock():
        subnet = choose_subnet(_other_labs_subnets(name))
        state = LabState(
            name=name,
            lab_id=lab_id(name),
            subnet=subnet,
            bridge=bridge,
            nft_table=nft_table_name(name),
            version=version,
        )
        save_state(state)
        netns.create_bridge(bridge, f"{state.gateway}/{state.prefix_len}")
    return state


def _ensure_bridge(state: LabState) -> None:
    if netns.link_exists(state.bridge):
        return
    with subnet_lock():
        ours = ipaddress.IPv4Network(state.subnet)
        for prefix in netns.route_prefixes():
            if ours.overlaps(ipaddress.IPv4Network(prefix, strict=False)):
                raise LabError(f"subnet {state.subnet} of lab {state.name} is now in use")
        netns.create_bridge(state.bridge, f"{state.gateway}/{state.prefix_len}")


def _plan_hosts(
    state: LabState, masters: int, nodes: int, ssh_port: int, host_ports: Mapping[str, int]
) -> tuple[HostState, ...]:
    """Existing hosts kept as they are; missing ones get the lowest free address from .2."""
    hosts = list(state.hosts)
    taken = {h.address for h in hosts}
    names = {h.name for h in hosts}
    base = state.subnet.rsplit(".", 1)[0]
    wanted: list[tuple[Role, int]] = [("master", i) for i in range(1, masters + 1)]
    wanted += [("node", i) for i in range(1, nodes + 1)]
    for role, index in wanted:
        name = host_name(state.name, role, index)
        if name in names:
            continue
        address = next((f"{base}.{n}" for n in range(2, 255) if f"{base}.{n}" not in taken), None)
        if address is None:
            raise LabError(f"lab {state.name} is full: a /24 holds at most 253 hosts")
        taken.add(address)
        port = host_ports.get(name, host_ports.get(f"{role}-{index}", ssh_port))
        hosts.append(
            HostState(
                name=name,
                role=role,
                index=index,
                address=address,
                netns=netns_name(name),
                veth=veth_name(state.name, address),
                ssh_port=port,
            )
        )
    return tuple(hosts)


# --- the API -----------------------------------------------------------------------------------


def get(name: str) -> Lab:
    """The lab ``name`` as saved (raises LabError when there is none)."""
    state = load_state(name)
    if state is None:
        raise LabError(f"there is no lab named {name} under {lab_root()}")
    return Lab(state=state, dir=lab_dir(name))


def up(
    name: str,
    masters: int = 3,
    nodes: int = 2,
    *,
    version: str = "v1.29.3",
    bandwidth: str | None = None,
    password_login: bool = False,
    sudo_user: str | None = None,
    ssh_port: int = 22,
    host_ports: Mapping[str, int] | None = None,
    clusterfile: Path | None = None,
) -> Lab:
    """Create (or complete) lab ``name`` and return it once every host's sshd answers.

    Running it again with more hosts adds hosts; hosts already there are left as they are
    (a host whose processes are gone, or whose sshd does not answer, is booted again).
    ``bandwidth`` None keeps the lab's shaping, "" removes it. ``clusterfile`` is written when
    given.
    """
    validate_lab_name(name)
    if masters < 1 or nodes < 0:
        raise LabError("a lab needs at least one master and zero or more nodes")
    if bandwidth and not _RATE_RE.fullmatch(bandwidth):
        raise LabError(f"bandwidth {bandwidth!r} is not a tc rate such as 100mbit or 1gbit")
    if sudo_user is not None and (sudo_user == "root" or not _USER_RE.fullmatch(sudo_user)):
        raise LabError(f"sudo user {sudo_user!r} is not a valid non-root user name")
    wanted = {
        f"{r}-{i}" for r, n in (("master", masters), ("node", nodes)) for i in range(1, n + 1)
    }
    for key, port in {"": ssh_port, **(host_ports or {})}.items():
        if not 0 < port < 65536:
            raise LabError(f"ssh port {port} is not a TCP port")
        if key and key.removeprefix(f"{name}-") not in wanted:
            raise LabError(f"--host-port names {key!r}, which is not a host of this lab")
    if os.geteuid() != 0:
        raise LabError("the lab needs root (network namespaces, mounts, bridges)")
    directory = lab_dir(name)
    with _lab_lock(directory):
        state = load_state(name) or _new_state(name, version)
        _ensure_bridge(state)
        netns.create_nft_isolation(state.nft_table, state.bridge)
        generate_key(directory / "id_ed25519", f"sealer-lab-{name}")
        (directory / "sbin").mkdir(exist_ok=True)
        hosts = _plan_hosts(state, masters, nodes, ssh_port, host_ports or {})
        state = state.model_copy(
            update={
                "hosts": hosts,
                "version": version,
                "bandwidth": state.bandwidth if bandwidth is None else (bandwidth or None),
                "password_login": password_login or state.password_login,
                "sudo_user": sudo_user or state.sudo_user,
            }
        )
        password_hash: str | None = None
        if state.password_login:
            pw_file = directory / "password"
            if not pw_file.exists():
                pw_file.touch(mode=0o600)
                pw_file.write_text(secrets.token_urlsafe(12) + "\n")
            password_hash = hash_password(pw_file.read_text().strip())
        save_state(state)  # before any host object exists, so `down` finds them after a crash

        key = (directory / "id_ed25519.pub").read_text()
        back = interpreter_paths(PRIVATE_DIRS)
        to_start: list[HostState] = []
        for h in state.hosts:
            if netns.host_init_pid(h.netns) is not None:
                if _sshd_answers(h.address, h.ssh_port):
                    netns.shape_link(h.netns, h.veth, state.bandwidth)
                    continue
                _stop_host(h.netns)  # alive but sshd gone: boot it again
            prepare_host(
                HostFiles(
                    lab_dir=directory,
                    host_dir=directory / "hosts" / h.name,
                    hostname=h.name,
                    address=h.address,
                    ssh_port=h.ssh_port,
                    authorized_key=key,
                    password_login=state.password_login,
                    root_password_hash=password_hash,
                    sudo_user=state.sudo_user,
                ),
                back,
            )
            netns.create_netns(h.netns)
            netns.create_host_link(
                h.netns, h.veth, state.bridge, h.address, state.prefix_len, state.gateway
            )
            netns.shape_link(h.netns, h.veth, state.bandwidth)
            to_start.append(h)
        for h in to_start:
            _spawn_host(directory, h)
        _wait_for_sshd(directory, state.hosts)
        _write_known_hosts(directory, state)
        _write_hosts_blocks(state)
        if clusterfile is not None:
            text = render_clusterfile(state, directory)
            clusterfile.write_text(text)
            state = state.model_copy(
                update={
                    "clusterfile": str(clusterfile.resolve()),
                    "clusterfile_sha256": hashlib.sha256(text.encode()).hexdigest(),
                }
            )
            save_state(state)
        return Lab(state=state, dir=directory)


def status(name: str) -> list[HostStatus]:
    lab = get(name)
    out = []
    for h in lab.hosts:
        pid = netns.host_init_pid(h.netns)
        out.append(
            HostStatus(
                name=h.name,
                role=h.role,
                address=h.address,
                netns=h.netns,
                ssh_port=h.ssh_port,
                init_pid=pid,
                sshd=pid is not None and _sshd_answers(h.address, h.ssh_port),
            )
        )
    return out


def _stop_host(netns_name_: str) -> list[int]:
    """Kill every process in the host's network namespace (tini first: its PID ns goes with it)."""
    inode = netns.netns_inode(netns_name_)
    if inode is None:
        return []
    init = netns.host_init_pid(netns_name_)
    if init is not None:
        netns.kill_processes([init])
    return netns.kill_processes(netns.processes_in_netns(inode))


def reboot(name: str, host: str) -> Lab:
    """Every process of the host ends, its /run, nftables rules and tracked connections are
    lost; then init, sshd and lab-boot again."""
    lab = get(name)
    h = lab.host(host)
    with _lab_lock(lab.dir):
        left = _stop_host(h.netns)
        if left:
            raise LabError(f"host {h.name}: processes {left} did not end")
        netns.forget_kernel_state(h.netns)
        _spawn_host(lab.dir, h)
        _wait_for_sshd(lab.dir, [h])
    return lab


def down(name: str) -> list[str]:
    """Remove everything lab ``name`` made; works on a half-made lab. Returns what was removed."""
    validate_lab_name(name)
    directory = lab_dir(name)
    if not directory.is_dir():
        return _down(name, directory)
    with _lab_lock(directory):
        return _down(name, directory)


def _down(name: str, directory: Path) -> list[str]:
    state = load_state(name)
    removed: list[str] = []
    # Hosts whose namespace file is gone but whose processes live on: found by tini's argv.
    strays = netns.processes_with_argument(f"{directory}/hosts/", "/boot.json")
    if netns.kill_processes(strays):
        raise LabError(f"lab {name}: processes {strays} did not end")
    pattern = host_netns_pattern(name)
    namespaces = {n for n in netns.list_netns() if pattern.fullmatch(n)}
    veths = {v for v in netns.list_links() if v.startswith(f"sv{lab_id(name)}h")}
    if state is not None:
        namespaces |= {h.netns for h in state.hosts if netns.netns_exists(h.netns)}
        veths |= {h.veth for h in state.hosts if netns.link_exists(h.veth)}
    for ns in sorted(namespaces):
        left = _stop_host(ns)
        if left:
            raise LabError(f"lab {name}: processes {left} in {ns} did not end")
    for veth in sorted(veths):
        netns.delete_link(veth)
        removed.append(f"link {veth}")
    for ns in sorted(namespaces):
        netns.delete_netns(ns)
        removed.append(f"netns {ns}")
    bridge = bridge_name(name)
    if netns.link_exists(bridge):
        netns.delete_link(bridge)
        removed.append(f"bridge {bridge}")
    netns.delete_nft_table(nft_table_name(name))
    if state is not None and state.clusterfile and state.clusterfile_sha256:
        cf = Path(state.clusterfile)
        if cf.exists() and hashlib.sha256(cf.read_bytes()).hexdigest() == state.clusterfile_sha256:
            cf.unlink()
            removed.append(f"file {cf}")
    if directory.exists():
        shutil.rmtree(directory)
        removed.append(f"dir {directory}")
    hosts_file = etc_hosts.WORKSTATION_HOSTS
    if etc_hosts.update_file(hosts_file, lambda text: etc_hosts.remove_block(text, name)):
        removed.append(f"block {etc_hosts.begin_marker(name)!r} of {hosts_file}")
    return removed
