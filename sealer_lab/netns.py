"""Kernel objects of a lab on this machine: network namespaces, bridge, veths, tc, nftables,
and the processes living in a namespace. Every change is an ``ip``/``tc``/``nft`` argv list.

Reading (``*_exists``, :func:`processes_in_netns`, :func:`host_init_pid`) is kept apart from
changing (``create_*``, ``delete_*``, :func:`kill_processes`).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import time
from pathlib import Path

from sealer_lab.local import run

__all__ = [
    "NETNS_DIR",
    "create_bridge",
    "create_host_link",
    "create_netns",
    "create_nft_isolation",
    "delete_link",
    "delete_netns",
    "delete_nft_table",
    "host_init_pid",
    "kill_processes",
    "link_exists",
    "list_links",
    "list_netns",
    "netns_exists",
    "netns_inode",
    "processes_in_netns",
    "processes_with_argument",
    "route_prefixes",
    "shape_link",
]

NETNS_DIR = Path("/run/netns")


# --- reading -------------------------------------------------------------------------------


def list_netns() -> list[str]:
    try:
        return sorted(p.name for p in NETNS_DIR.iterdir())
    except FileNotFoundError:
        return []


def netns_exists(name: str) -> bool:
    return (NETNS_DIR / name).exists()


def netns_inode(name: str) -> int | None:
    try:
        return os.stat(NETNS_DIR / name).st_ino
    except FileNotFoundError:
        return None


def link_exists(name: str) -> bool:
    return Path("/sys/class/net", name).exists()


def list_links() -> list[str]:
    try:
        return sorted(p.name for p in Path("/sys/class/net").iterdir())
    except FileNotFoundError:
        return []


def route_prefixes() -> list[str]:
    """Destination prefixes of every IPv4 route and address of the root namespace."""
    out: list[str] = []
    for route in json.loads(run(["ip", "-j", "-4", "route", "show", "table", "all"]).stdout):
        dst = str(route.get("dst", ""))
        if dst and dst != "default":
            out.append(dst if "/" in dst else f"{dst}/32")
    for link in json.loads(run(["ip", "-j", "-4", "addr", "show"]).stdout):
        for addr in link.get("addr_info", []):
            out.append(f"{addr['local']}/{addr['prefixlen']}")
    return out


def _netns_of(pid: int) -> int | None:
    try:
        return os.stat(f"/proc/{pid}/ns/net").st_ino
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None


def _pids() -> list[int]:
    return [int(p) for p in os.listdir("/proc") if p.isdigit()]


def processes_in_netns(inode: int) -> list[int]:
    """PIDs (as seen from here) of every process whose network namespace is ``inode``."""
    own = os.getpid()
    return [pid for pid in _pids() if pid != own and _netns_of(pid) == inode]


def processes_with_argument(prefix: str, suffix: str = "") -> list[int]:
    """PIDs of processes one of whose argv words starts with ``prefix`` and ends with ``suffix``."""
    own = os.getpid()
    found = []
    for pid in _pids():
        if pid == own:
            continue
        try:
            words = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except (FileNotFoundError, ProcessLookupError):
            continue
        match = [w for w in words if w.startswith(prefix.encode()) and w.endswith(suffix.encode())]
        if match and _alive(pid):
            found.append(pid)
    return found


def _nspid(pid: int) -> list[str]:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("NSpid:"):
                return line.split()[1:]
    except (FileNotFoundError, ProcessLookupError):
        pass
    return []


def host_init_pid(netns: str) -> int | None:
    """The PID (as seen from here) of the host's PID 1 (tini) in network namespace ``netns``."""
    inode = netns_inode(netns)
    if inode is None:
        return None
    for pid in processes_in_netns(inode):
        nspid = _nspid(pid)
        if len(nspid) >= 2 and nspid[-1] == "1":
            return pid
    return None


# --- changing ------------------------------------------------------------------------------


def create_netns(name: str) -> None:
    if not netns_exists(name):
        run(["ip", "netns", "add", name])


def delete_netns(name: str) -> None:
    if netns_exists(name):
        run(["ip", "netns", "delete", name])


def forget_kernel_state(name: str) -> None:
    """What a reboot loses that the namespace would keep: nftables rules and tracked
    connections (addresses and routes are the lab's own and are kept)."""
    run(["ip", "netns", "exec", name, "nft", "flush", "ruleset"])
    if shutil.which("conntrack"):
        run(["ip", "netns", "exec", name, "conntrack", "-F"], check=False)


def create_bridge(name: str, address_cidr: str) -> None:
    if not link_exists(name):
        run(["ip", "link", "add", "name", name, "type", "bridge"])
    current = json.loads(run(["ip", "-j", "-4", "addr", "show", "dev", name]).stdout)
    present = {f"{a['local']}/{a['prefixlen']}" for link in current for a in link["addr_info"]}
    if address_cidr not in present:
        run(["ip", "addr", "add", address_cidr, "dev", name])
    run(["ip", "link", "set", name, "up"])


def delete_link(name: str) -> None:
    if link_exists(name):
        run(["ip", "link", "delete", name], check=False)


def create_host_link(
    netns: str, veth: str, bridge: str, address: str, prefix_len: int, gateway: str
) -> None:
    """A veth from the bridge to ``eth0`` in ``netns`` with ``address``; default via the bridge."""
    ns = ["ip", "-n", netns]
    if not link_exists(veth):
        run(["ip", "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", netns])
    run(["ip", "link", "set", veth, "master", bridge, "up"])
    run([*ns, "link", "set", "lo", "up"])
    current = json.loads(run([*ns, "-j", "-4", "addr", "show", "dev", "eth0"]).stdout)
    if not any(a["local"] == address for link in current for a in link["addr_info"]):
        run([*ns, "addr", "add", f"{address}/{prefix_len}", "dev", "eth0"])
    run([*ns, "link", "set", "eth0", "up"])
    run([*ns, "route", "replace", "default", "via", gateway, "dev", "eth0"])


def shape_link(netns: str, veth: str, rate: str | None) -> None:
    """Token-bucket shaping at ``rate`` both ways (host egress on eth0, ingress on the veth)."""
    for prefix, dev in ((["tc", "-n", netns], "eth0"), (["tc"], veth)):
        if rate is None:
            run([*prefix, "qdisc", "del", "dev", dev, "root"], check=False)
        else:
            tbf = ["tbf", "rate", rate, "burst", "256kb", "latency", "50ms"]
            run([*prefix, "qdisc", "replace", "dev", dev, "root", *tbf])


def create_nft_isolation(table: str, bridge: str) -> None:
    """Forward nothing between this lab's bridge and any other interface (other labs, uplinks)."""
    script = "\n".join(
        [
            f"table inet {table} {{",
            "  chain forward {",
            "    type filter hook forward priority -10; policy accept;",
            f'    iifname "{bridge}" oifname != "{bridge}" drop',
            f'    oifname "{bridge}" iifname != "{bridge}" drop',
            "  }",
            "}",
        ]
    )
    delete_nft_table(table)
    run(["nft", "-f", "-"], input=script + "\n")


def delete_nft_table(table: str) -> None:
    run(["nft", "delete", "table", "inet", table], check=False)


def kill_processes(pids: list[int], timeout: float = 10.0) -> list[int]:
    """SIGKILL ``pids`` and wait until they are gone; return the ones still there."""
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + timeout
    alive = pids
    while alive and time.monotonic() < deadline:
        alive = [pid for pid in alive if _alive(pid)]
        if alive:
            time.sleep(0.05)
    return alive


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state != "Z"
