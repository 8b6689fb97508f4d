#!/usr/bin/python3
"""sealer-care: the node-local load balancer for the Kubernetes API server.

Installed by sealer as ``/usr/local/bin/sealer-care`` on every node and run by the systemd unit
``sealer-care.service``. Locally generated connections to ``VIP:port`` are balanced in the
kernel (nftables DNAT or IPVS) across the masters whose ``https://<master>:<port>/readyz``
answers ``200`` with a certificate that verifies against the cluster CA *and* names the master's
IP address. A master failing ``fall`` probes in a row leaves the rules; it comes back after
``rise`` good probes. Only changes are logged (to stderr, i.e. the journal); no file is written.

This file must run on a bare node: ONE file, Python standard library only, Python >= 3.8 syntax
and library. It is also imported by sealer itself (``sealer.lb``) for its pure parts.
See docs/load-balancer.md for every decision taken here.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Protocol

__all__ = [
    "DEFAULT_CONFIG_PATH",
    "NFT_TABLE",
    "VIP_LINK",
    "CareError",
    "Config",
    "IpvsBackend",
    "IpvsRealServer",
    "IpvsService",
    "MasterState",
    "NftBackend",
    "NftState",
    "ProbeResult",
    "config_from_mapping",
    "conntrack_delete_argv",
    "desired_weights",
    "ipvs_service_commands",
    "ipvs_vip_commands",
    "main",
    "next_state",
    "parse_conntrack_deleted",
    "parse_ip_addr_show",
    "parse_ipvsadm",
    "parse_nft_json",
    "probe",
    "render_nft",
]

VERSION = "1"
DEFAULT_CONFIG_PATH = "/etc/sealer/care.json"
DEFAULT_CA_FILE = "/etc/sealer/ca.crt"
NFT_TABLE = "sealer_care"
NFT_CHAIN = "output"
NFT_PRIORITY = -110  # before kube-proxy's dstnat (-100): if a Service ever gets the VIP, we win
VIP_LINK = "sealer-vip"
COMMAND_TIMEOUT = 10.0
BACKENDS = ("auto", "nftables", "ipvs")

UNKNOWN = "unknown"
UP = "up"
DOWN = "down"


class CareError(Exception):
    """A configuration or kernel-rule problem the daemon reports (one line, no secrets)."""


# --------------------------------------------------------------------------------------------
# Configuration
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Config:
    """What the daemon balances and how it probes. Written by sealer to care.json."""

    vip: str
    masters: tuple[str, ...]
    port: int = 6443
    ca_file: str = DEFAULT_CA_FILE
    cert_file: str | None = None  # optional client certificate for /readyz
    key_file: str | None = None
    path: str = "/readyz"
    interval: float = 5.0
    timeout: float = 2.0
    fall: int = 3
    rise: int = 2
    backend: str = "auto"


_FIELDS = (
    "vip",
    "masters",
    "port",
    "ca_file",
    "cert_file",
    "key_file",
    "path",
    "interval",
    "timeout",
    "fall",
    "rise",
    "backend",
)


def _ipv4(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise CareError(f"{what}: expected an IPv4 address string, got {value!r}")
    try:
        return str(ipaddress.IPv4Address(value))
    except ValueError:
        raise CareError(f"{what}: {value!r} is not an IPv4 address") from None


def _number(value: object, what: str, minimum: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise CareError(f"{what}: expected a number, got {value!r}")
    if value < minimum:
        raise CareError(f"{what}: must be at least {minimum}, got {value}")
    return float(value)


def _integer(value: object, what: str, minimum: int, maximum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise CareError(f"{what}: expected an integer, got {value!r}")
    if not minimum <= value <= maximum:
        raise CareError(f"{what}: must be in {minimum}..{maximum}, got {value}")
    return value


def _optional_path(value: object, what: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.startswith("/"):
        raise CareError(f"{what}: expected an absolute path, got {value!r}")
    return value


def config_from_mapping(data: dict[str, Any], source: str = "care.json") -> Config:
    """Validate a decoded care.json (or flag overrides) into a Config; CareError names the key."""
    unknown = sorted(set(data) - set(_FIELDS))
    if unknown:
        raise CareError("{}: unknown key(s): {}".format(source, ", ".join(unknown)))
    if "vip" not in data:
        raise CareError(f"{source}: 'vip' is required")
    vip = _ipv4(data["vip"], source + ": vip")
    masters_raw = data.get("masters")
    if not isinstance(masters_raw, list) or not masters_raw:
        raise CareError(f"{source}: 'masters' must be a non-empty list of IPv4 addresses")
    masters: list[str] = []
    for i, item in enumerate(masters_raw):
        address = _ipv4(item, f"{source}: masters[{i}]")
        if address == vip:
            raise CareError(f"{source}: masters[{i}] is the VIP itself")
        if address not in masters:
            masters.append(address)
    config = Config(vip=vip, masters=tuple(masters))
    if "port" in data:
        config = replace(config, port=_integer(data["port"], source + ": port", 1, 65535))
    if "ca_file" in data:
        ca_file = _optional_path(data["ca_file"], source + ": ca_file")
        if ca_file is None:
            raise CareError(f"{source}: 'ca_file' is required")
        config = replace(config, ca_file=ca_file)
    if "cert_file" in data:
        config = replace(
            config, cert_file=_optional_path(data["cert_file"], source + ": cert_file")
        )
    if "key_file" in data:
        config = replace(config, key_file=_optional_path(data["key_file"], source + ": key_file"))
    if (config.cert_file is None) != (config.key_file is None):
        raise CareError(f"{source}: 'cert_file' and 'key_file' go together")
    if "path" in data:
        path = data["path"]
        if not isinstance(path, str) or not path.startswith("/") or any(c in path for c in " \r\n"):
            raise CareError(f"{source}: path: expected an URL path like /readyz")
        config = replace(config, path=path)
    if "interval" in data:
        config = replace(config, interval=_number(data["interval"], source + ": interval", 0.2))
    if "timeout" in data:
        config = replace(config, timeout=_number(data["timeout"], source + ": timeout", 0.1))
    if config.timeout >= config.interval:
        raise CareError(
            f"{source}: timeout ({config.timeout}) must be shorter than "
            f"interval ({config.interval})"
        )
    if "fall" in data:
        config = replace(config, fall=_integer(data["fall"], source + ": fall", 1, 100))
    if "rise" in data:
        config = replace(config, rise=_integer(data["rise"], source + ": rise", 1, 100))
    if "backend" in data:
        if data["backend"] not in BACKENDS:
            raise CareError(
                "{}: backend must be one of {}, got {!r}".format(
                    source, ", ".join(BACKENDS), data["backend"]
                )
            )
        config = replace(config, backend=str(data["backend"]))
    return config


def read_config_file(path: str) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except OSError as exc:
        raise CareError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise CareError(f"{path}: not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise CareError(f"{path}: expected a JSON object")
    return data


# --------------------------------------------------------------------------------------------
# Probing and the health state machine
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProbeResult:
    ok: bool
    detail: str  # "HTTP 200", "HTTP 500", "connect: Connection refused", "TLS: ...", "timeout"


def tls_context(config: Config) -> ssl.SSLContext:
    """Verify the chain against the cluster CA and the certificate against the master's IP."""
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=config.ca_file)
    context.check_hostname = True
    context.verify_mode = ssl.CERT_REQUIRED
    if config.cert_file is not None and config.key_file is not None:
        context.load_cert_chain(config.cert_file, config.key_file)
    return context


# socket.timeout is TimeoutError only from Python 3.10 on; on 3.8 it is a plain OSError
_TIMEOUTS = (TimeoutError, getattr(socket, "timeout", TimeoutError))


def probe(
    address: str, port: int, path: str, context: ssl.SSLContext, timeout: float
) -> ProbeResult:
    """GET https://address:port/path; healthy only on status 200, within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout

    def remaining() -> float:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("timed out")
        return left

    try:
        raw = socket.create_connection((address, port), timeout=remaining())
    except _TIMEOUTS:
        return ProbeResult(False, f"connect: timed out after {timeout}s")
    except OSError as exc:
        return ProbeResult(False, f"connect: {exc.strerror or exc}")
    try:
        raw.settimeout(remaining())
        with context.wrap_socket(raw, server_hostname=address) as tls:
            request = (
                f"GET {path} HTTP/1.1\r\nHost: {address}:{port}\r\n"
                f"User-Agent: sealer-care/{VERSION}\r\nAccept: */*\r\nConnection: close\r\n\r\n"
            )
            tls.settimeout(remaining())
            tls.sendall(request.encode("ascii"))
            head = b""
            while b"\r\n" not in head and len(head) < 4096:
                tls.settimeout(remaining())
                chunk = tls.recv(4096)
                if not chunk:
                    break
                head += chunk
    except _TIMEOUTS:
        return ProbeResult(False, f"timed out after {timeout}s")
    except ssl.SSLCertVerificationError as exc:
        return ProbeResult(False, f"TLS: {exc.verify_message or exc.reason}")
    except ssl.SSLError as exc:
        return ProbeResult(False, f"TLS: {exc.reason or exc}")
    except OSError as exc:
        return ProbeResult(False, f"{exc.strerror or exc}")
    finally:
        raw.close()
    line = head.split(b"\r\n", 1)[0].decode("latin-1")
    parts = line.split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
        return ProbeResult(False, "not an HTTP answer")
    status = int(parts[1])
    return ProbeResult(status == 200, f"HTTP {status}")


@dataclass(frozen=True)
class MasterState:
    """Health of one master. ``status`` is unknown (never probed), up or down."""

    status: str = UNKNOWN
    good: int = 0  # consecutive good probes
    bad: int = 0  # consecutive failed probes
    detail: str = ""  # last probe's detail


def next_state(state: MasterState, result: ProbeResult, fall: int, rise: int) -> MasterState:
    """The state machine. The first probe decides an unknown master; then fall/rise hysteresis.

    up   --fall failures in a row--> down
    down --rise successes in a row--> up
    """
    good = state.good + 1 if result.ok else 0
    bad = 0 if result.ok else state.bad + 1
    status = state.status
    if status == UNKNOWN:
        status = UP if result.ok else DOWN
    elif status == UP and bad >= fall:
        status = DOWN
    elif status == DOWN and good >= rise:
        status = UP
    return MasterState(status=status, good=good, bad=bad, detail=result.detail)


def desired_weights(
    masters: Sequence[str], states: dict[str, MasterState]
) -> tuple[dict[str, int], bool]:
    """Weight 1 for masters up or not yet probed, 0 for masters down.

    When no master would get weight 1 the balancer *fails open*: every configured master gets
    weight 1 (the second value is then True). With nothing healthy there is nothing to lose,
    and a broken probe (a wrong CA file, anonymous auth switched off) must not cut the VIP.
    """
    weights = {m: 0 if states.get(m, MasterState()).status == DOWN else 1 for m in masters}
    if masters and not any(weights.values()):
        return {m: 1 for m in masters}, True
    return weights, False


# --------------------------------------------------------------------------------------------
# Running commands
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Completed:
    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    def failure(self) -> str:
        detail = (self.stderr or self.stdout).strip().splitlines()
        tail = " | ".join(detail[-3:]) if detail else "no output"
        return "`{}` exited with status {}: {}".format(" ".join(self.argv), self.returncode, tail)


if TYPE_CHECKING:  # annotations only: this file must import on Python 3.8
    Runner = Callable[[Sequence[str], str | None], Completed]


def run_command(argv: Sequence[str], stdin: str | None = None) -> Completed:
    """Run argv (never a shell) with a timeout; a missing program is exit status 127."""
    try:
        proc = subprocess.run(
            list(argv),
            input=stdin,
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT,
            check=False,
        )
    except FileNotFoundError:
        return Completed(tuple(argv), 127, "", f"{argv[0]}: command not found")
    except subprocess.TimeoutExpired:
        return Completed(tuple(argv), 124, "", f"timed out after {COMMAND_TIMEOUT}s")
    return Completed(tuple(argv), proc.returncode, proc.stdout, proc.stderr)


# --------------------------------------------------------------------------------------------
# nftables backend
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NftState:
    """What ``table ip sealer_care`` sends where: VIP:port -> backends (in map order)."""

    vip: str
    port: int
    backends: tuple[str, ...]


def render_nft(vip: str, port: int, backends: Sequence[str]) -> str:
    """One atomic ``nft -f`` transaction: create-if-missing, delete, re-create the table.

    ``numgen inc`` gives exact round robin (like IPVS rr) for new connections; established
    connections keep their conntrack NAT binding, so replacing the table does not cut them.
    """
    if not backends:
        raise CareError(f"no backend to send {vip}:{port} to")
    if len(backends) == 1:
        target = backends[0]
    else:
        pairs = ", ".join(f"{i} : {b}" for i, b in enumerate(backends))
        target = f"numgen inc mod {len(backends)} map {{ {pairs} }}"
    return (
        f"table ip {NFT_TABLE}\n"
        f"delete table ip {NFT_TABLE}\n"
        f"table ip {NFT_TABLE} {{\n"
        f"\tchain {NFT_CHAIN} {{\n"
        f"\t\ttype nat hook output priority {NFT_PRIORITY}; policy accept;\n"
        f"\t\tip daddr {vip} tcp dport {port} dnat to {target}\n"
        "\t}\n"
        "}\n"
    )


def _nft_match(expr: dict[str, Any], protocol: str, fieldname: str) -> Any | None:
    match = expr.get("match")
    if not isinstance(match, dict) or match.get("op", "==") != "==":
        return None
    payload = match.get("left", {})
    payload = payload.get("payload") if isinstance(payload, dict) else None
    if (
        isinstance(payload, dict)
        and payload.get("protocol") == protocol
        and payload.get("field") == fieldname
    ):
        return match.get("right")
    return None


def _nft_targets(addr: object) -> list[str]:
    if isinstance(addr, str):
        return [addr]
    if isinstance(addr, dict) and isinstance(addr.get("map"), dict):
        data = addr["map"].get("data", {})
        elements = data.get("set", []) if isinstance(data, dict) else []
        pairs: list[tuple[int, str]] = []
        for element in elements:
            if isinstance(element, list) and len(element) == 2:
                pairs.append((int(element[0]), str(element[1])))
        return [address for _, address in sorted(pairs)]
    raise CareError(f"unexpected dnat target in nft JSON: {addr!r}")


def parse_nft_json(text: str) -> NftState | None:
    """Parse ``nft -j list table ip sealer_care``. None when the table holds no VIP rule.

    Sample (abridged)::

        {"nftables": [{"metainfo": {...}}, {"table": {"family": "ip", "name": "sealer_care"}},
         {"chain": {"table": "sealer_care", "name": "output", "type": "nat", "hook": "output"}},
         {"rule": {"table": "sealer_care", "chain": "output", "expr": [
           {"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "daddr"}},
                      "right": "10.103.97.2"}},
           {"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}},
                      "right": 6443}},
           {"dnat": {"addr": {"map": {"key": {"numgen": {"mode": "inc", "mod": 2, "offset": 0}},
                                      "data": {"set": [[0, "10.0.0.11"], [1, "10.0.0.12"]]}}}}}
         ]}}]}
    """
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise CareError(f"nft printed invalid JSON: {exc}") from None
    items = document.get("nftables") if isinstance(document, dict) else None
    if not isinstance(items, list):
        raise CareError("nft JSON has no 'nftables' list")
    for item in items:
        rule = item.get("rule") if isinstance(item, dict) else None
        if not isinstance(rule, dict) or rule.get("table") != NFT_TABLE:
            continue
        vip: str | None = None
        port: int | None = None
        targets: list[str] | None = None
        for expr in rule.get("expr", []):
            if not isinstance(expr, dict):
                continue
            daddr = _nft_match(expr, "ip", "daddr")
            dport = _nft_match(expr, "tcp", "dport")
            if isinstance(daddr, str):
                vip = daddr
            elif isinstance(dport, int):
                port = dport
            elif isinstance(expr.get("dnat"), dict):
                targets = _nft_targets(expr["dnat"].get("addr"))
        if vip is not None and port is not None and targets is not None:
            return NftState(vip=vip, port=port, backends=tuple(targets))
    return None


def conntrack_delete_argv(vip: str, port: int, master: str) -> list[str]:
    """conntrack argv deleting the NAT flows VIP:port -> master (any other flow is left)."""
    return [
        "conntrack",
        "-D",
        "-p",
        "tcp",
        "--orig-dst",
        vip,
        "--orig-port-dst",
        str(port),
        "--reply-src",
        master,
    ]


def parse_conntrack_deleted(stderr: str) -> int | None:
    """The count in "conntrack v1.4.7 (conntrack-tools): 2 flow entries have been deleted."."""
    words = stderr.split()
    for i, word in enumerate(words[:-3]):
        if word.isdigit() and words[i + 1 : i + 4] == ["flow", "entries", "have"]:
            return int(word)
    return None


class NftBackend:
    """DNAT in the nat/output hook: locally generated connections to VIP:port only."""

    name = "nftables"
    flows_note = "the conntrack program is not installed"

    def __init__(self, runner: Runner = run_command) -> None:
        self.run = runner

    def read(self) -> NftState | None:
        done = self.run(["nft", "-j", "list", "table", "ip", NFT_TABLE], None)
        if done.returncode != 0:
            if "No such file or directory" in done.stderr:
                return None
            raise CareError(done.failure())
        return parse_nft_json(done.stdout)

    def in_shape(self, config: Config, weights: dict[str, int]) -> bool:
        wanted = NftState(config.vip, config.port, tuple(m for m, w in weights.items() if w))
        return self.read() == wanted

    def apply(self, config: Config, weights: dict[str, int]) -> None:
        text = render_nft(config.vip, config.port, [m for m, w in weights.items() if w])
        done = self.run(["nft", "-f", "-"], text)
        if done.returncode != 0:
            raise CareError(done.failure())

    def has_rules(self, config: Config) -> tuple[str, ...] | None:
        state = self.read()
        if state is None or state.vip != config.vip or state.port != config.port:
            return None
        return state.backends

    def drop_flows(self, config: Config, master: str) -> int | None:
        """Delete conntrack entries of connections through the VIP to ``master``; None when
        the conntrack program is missing (it is optional on a node)."""
        done = self.run(conntrack_delete_argv(config.vip, config.port, master), None)
        count = parse_conntrack_deleted(done.stderr)
        if done.returncode == 127:
            return None
        if count is None:
            raise CareError(done.failure())
        return count

    def clean(self, config: Config | None) -> list[str]:
        done = self.run(["nft", "delete", "table", "ip", NFT_TABLE], None)
        if done.returncode == 0:
            return [f"deleted nftables table ip {NFT_TABLE}"]
        if done.returncode == 127 or "No such file or directory" in done.stderr:
            return []
        raise CareError(done.failure())


# --------------------------------------------------------------------------------------------
# IPVS backend
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IpvsRealServer:
    address: str
    port: int
    forward: str  # "Masq", "Route", "Tunnel", "FullNat"...
    weight: int
    active: int = 0
    inactive: int = 0


@dataclass(frozen=True)
class IpvsService:
    protocol: str  # "TCP", "UDP", "SCTP"
    address: str
    port: int
    scheduler: str
    reals: tuple[IpvsRealServer, ...] = field(default_factory=tuple)


def _split_host_port(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        raise CareError(f"ipvsadm: cannot read address {text!r}")
    return host.strip("[]"), int(port)


def parse_ipvsadm(text: str) -> list[IpvsService]:
    """Parse ``ipvsadm -Ln`` (numeric) into virtual services with their real servers.

    Sample::

        IP Virtual Server version 1.2.1 (size=4096)
        Prot LocalAddress:Port Scheduler Flags
          -> RemoteAddress:Port           Forward Weight ActiveConn InActConn
        TCP  10.103.97.2:6443 rr
          -> 10.0.0.11:6443               Masq    1      3          0
          -> 10.0.0.12:6443               Masq    0      0          0
    """
    services: list[IpvsService] = []
    in_fwm = False  # real servers of a firewall-mark service (not ours) are skipped
    for line in text.splitlines():
        words = line.split()
        if not words or words[0] in ("IP", "Prot") or words[:2] == ["->", "RemoteAddress:Port"]:
            continue
        if words[0] in ("TCP", "UDP", "SCTP") and len(words) >= 3:
            address, port = _split_host_port(words[1])
            services.append(IpvsService(words[0], address, port, words[2]))
            in_fwm = False
        elif words[0] == "FWM":
            in_fwm = True
        elif words[0] == "->" and len(words) >= 4:
            if in_fwm:
                continue
            if not services:
                raise CareError(f"ipvsadm: real server before any virtual service: {line!r}")
            address, port = _split_host_port(words[1])
            numbers = [int(w) if w.isdigit() else 0 for w in words[3:6]] + [0, 0, 0]
            real = IpvsRealServer(address, port, words[2], numbers[0], numbers[1], numbers[2])
            last = services[-1]
            services[-1] = replace(last, reals=(*last.reals, real))
        else:
            raise CareError(f"ipvsadm: unexpected line {line!r}")
    return services


def ipvs_service_commands(
    current: IpvsService | None, vip: str, port: int, weights: dict[str, int]
) -> list[list[str]]:
    """ipvsadm argv lists that bring the TCP service VIP:port to round robin over ``weights``.

    Real servers use NAT ("-m", masquerading) like lvscare and kube-proxy: it is the only IPVS
    forwarding method that works for locally generated connections to any routable master.
    Weight-0 masters stay (quiesced: no new connections, established ones drain); masters
    that left the configuration are deleted. Adds and edits come before deletes, so the
    service never has zero real servers.
    """
    service = f"{vip}:{port}"
    argv: list[list[str]] = []
    if current is None:
        argv.append(["ipvsadm", "-A", "-t", service, "-s", "rr"])
    elif current.scheduler != "rr":
        argv.append(["ipvsadm", "-E", "-t", service, "-s", "rr"])
    present = {} if current is None else {(r.address, r.port): r for r in current.reals}
    for master, weight in weights.items():
        real = present.get((master, port))
        target = ["-t", service, "-r", f"{master}:{port}", "-m", "-w", str(weight)]
        if real is None:
            argv.append(["ipvsadm", "-a", *target])
        elif real.weight != weight or real.forward != "Masq":
            argv.append(["ipvsadm", "-e", *target])
    for address, real_port in present:
        if real_port != port or address not in weights:
            gone = f"{address}:{real_port}"
            argv.append(["ipvsadm", "-d", "-t", service, "-r", gone])
    return argv


def parse_ip_addr_show(text: str) -> list[str]:
    """IPv4 addresses (with prefix) from ``ip -o -4 addr show dev sealer-vip``.

    Sample::

        7: sealer-vip    inet 10.103.97.2/32 scope global sealer-vip\\       valid_lft forever ...
    """
    found: list[str] = []
    for line in text.splitlines():
        words = line.split()
        for i, word in enumerate(words[:-1]):
            if word == "inet":
                found.append(words[i + 1])
    return found


def ipvs_vip_commands(link_exists: bool, addresses: Sequence[str], vip: str) -> list[list[str]]:
    """ip argv lists that give the dummy link ``sealer-vip`` exactly ``vip/32``.

    IPVS only sees connections to a local address, so the VIP must be assigned on the node. Our
    own dummy link (not kube-proxy's kube-ipvs0, which kube-proxy prunes) keeps it out of
    everybody's way; a dummy link never answers ARP for it.
    """
    argv: list[list[str]] = []
    if not link_exists:
        argv.append(["ip", "link", "add", VIP_LINK, "type", "dummy"])
    argv.append(["ip", "link", "set", VIP_LINK, "up"])
    wanted = f"{vip}/32"
    for address in addresses:
        if address != wanted:
            argv.append(["ip", "addr", "del", address, "dev", VIP_LINK])
    if wanted not in addresses:
        argv.append(["ip", "addr", "add", wanted, "dev", VIP_LINK])
    return argv


class IpvsBackend:
    """IPVS virtual server VIP:port (rr) with NAT real servers, VIP on the dummy sealer-vip."""

    name = "ipvs"
    flows_note = "weight 0 keeps established connections until they close"

    def __init__(self, runner: Runner = run_command) -> None:
        self.run = runner

    def _checked(self, argv: Sequence[str]) -> Completed:
        done = self.run(argv, None)
        if done.returncode != 0:
            raise CareError(done.failure())
        return done

    def _service(self, config: Config) -> IpvsService | None:
        text = self._checked(["ipvsadm", "-Ln"]).stdout
        for service in parse_ipvsadm(text):
            if (service.protocol, service.address, service.port) == (
                "TCP",
                config.vip,
                config.port,
            ):
                return service
        return None

    def _link(self) -> tuple[bool, list[str]]:
        done = self.run(["ip", "-o", "-4", "addr", "show", "dev", VIP_LINK], None)
        if done.returncode != 0:
            return False, []
        return True, parse_ip_addr_show(done.stdout)

    def in_shape(self, config: Config, weights: dict[str, int]) -> bool:
        exists, addresses = self._link()
        if ipvs_vip_commands(exists, addresses, config.vip)[1:]:
            return False
        return not ipvs_service_commands(self._service(config), config.vip, config.port, weights)

    def apply(self, config: Config, weights: dict[str, int]) -> None:
        exists, addresses = self._link()
        for argv in ipvs_vip_commands(exists, addresses, config.vip):
            self._checked(argv)
        current = self._service(config)
        for argv in ipvs_service_commands(current, config.vip, config.port, weights):
            self._checked(argv)

    def has_rules(self, config: Config) -> tuple[str, ...] | None:
        service = self._service(config)
        if service is None:
            return None
        return tuple(r.address for r in service.reals if r.weight > 0)

    def drop_flows(self, config: Config, master: str) -> int | None:
        return None

    def clean(self, config: Config | None) -> list[str]:
        done: list[str] = []
        if config is not None:
            service = f"{config.vip}:{config.port}"
            result = self.run(["ipvsadm", "-D", "-t", service], None)
            if result.returncode == 0:
                done.append(f"deleted IPVS service {service}")
        if self.run(["ip", "link", "del", VIP_LINK], None).returncode == 0:
            done.append(f"deleted link {VIP_LINK}")
        return done


class Backend(Protocol):
    """What the daemon needs from a backend (NftBackend, IpvsBackend)."""

    name: str
    flows_note: str

    def in_shape(self, config: Config, weights: dict[str, int]) -> bool: ...

    def apply(self, config: Config, weights: dict[str, int]) -> None: ...

    def has_rules(self, config: Config) -> tuple[str, ...] | None: ...

    def clean(self, config: Config | None) -> list[str]: ...

    def drop_flows(self, config: Config, master: str) -> int | None: ...


def choose_backend(wanted: str, runner: Runner = run_command) -> Backend:
    """``auto``: IPVS when the kernel has it (or ``modprobe ip_vs`` works) and ipvsadm exists."""
    if wanted == "nftables":
        return NftBackend(runner)
    if wanted == "ipvs":
        return IpvsBackend(runner)
    if not os.path.exists("/proc/net/ip_vs"):
        runner(["modprobe", "ip_vs"], None)
    if os.path.exists("/proc/net/ip_vs") and runner(["ipvsadm", "-v"], None).returncode == 0:
        return IpvsBackend(runner)
    return NftBackend(runner)


# --------------------------------------------------------------------------------------------
# The daemon
# --------------------------------------------------------------------------------------------


class Log:
    """Writes state changes to stderr (the journal). Repeated errors are written once."""

    def __init__(self, stream: Any = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.errors: dict[str, str] = {}

    def info(self, message: str) -> None:
        try:
            self.stream.write(f"sealer-care: {message}\n")
            self.stream.flush()
        except (OSError, ValueError):
            pass  # a closed journal pipe must not kill the balancer

    def error(self, key: str, message: str) -> None:
        if self.errors.get(key) != message:
            self.errors[key] = message
            self.info(f"error: {message}")

    def recovered(self, key: str, message: str) -> None:
        if self.errors.pop(key, None) is not None:
            self.info(message)

    def once(self, key: str, message: str) -> None:
        """A note worth saying once per run (not an error)."""
        if key not in self.errors:
            self.errors[key] = message
            self.info(message)


def sd_notify(message: str) -> None:
    """Tell systemd (Type=notify) we are ready; a no-op outside systemd."""
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return
    if address.startswith("@"):
        address = "\0" + address[1:]
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.sendto(message.encode("utf-8"), address)
    except OSError:
        pass


@dataclass
class Daemon:
    """One balancer: its configuration, the health of each master, the chosen backend."""

    config: Config
    backend: Backend
    log: Log
    states: dict[str, MasterState] = field(default_factory=dict)
    applied: dict[str, int] | None = None
    fail_open: bool = False
    probes: dict[str, threading.Thread] = field(default_factory=dict)

    def start(self) -> None:
        """Make sure the VIP works before the first probe (boot: no rules; restart: keep them)."""
        existing = self._existing()
        if existing and set(existing) <= set(self.config.masters):
            self.applied = {m: 1 if m in existing else 0 for m in self.config.masters}
            self.log.info(
                "keeping existing {} rules {}:{} -> {}".format(
                    self.backend.name, self.config.vip, self.config.port, ", ".join(existing)
                )
            )
            return
        self.sync()

    def _existing(self) -> tuple[str, ...] | None:
        try:
            result: tuple[str, ...] | None = self.backend.has_rules(self.config)
        except CareError as exc:
            self.log.error("rules", str(exc))
            return None
        return result

    def probe_all(self) -> dict[str, ProbeResult]:
        """Probe every master concurrently; never waits longer than timeout (+ a margin)."""
        try:
            context = tls_context(self.config)
        except (OSError, ssl.SSLError) as exc:
            detail = f"cannot load TLS files ({self.config.ca_file}): {exc}"
            return {m: ProbeResult(False, detail) for m in self.config.masters}
        results: dict[str, ProbeResult] = {}
        started: dict[str, threading.Thread] = {}
        for master in self.config.masters:
            running = self.probes.get(master)
            if running is not None and running.is_alive():
                results[master] = ProbeResult(False, "previous probe still running")
                continue

            def work(m: str = master) -> None:
                cfg = self.config
                try:
                    results[m] = probe(m, cfg.port, cfg.path, context, cfg.timeout)
                except Exception as exc:  # a probe must never take the daemon down
                    results[m] = ProbeResult(False, f"probe error: {type(exc).__name__}: {exc}")

            thread = threading.Thread(target=work, name="probe-" + master, daemon=True)
            thread.start()
            started[master] = thread
            self.probes[master] = thread
        deadline = time.monotonic() + self.config.timeout + 0.5
        for master, thread in started.items():
            thread.join(max(0.0, deadline - time.monotonic()))
            if master not in results:
                results[master] = ProbeResult(False, "timed out")
        return dict(results)

    def observe(self, results: dict[str, ProbeResult]) -> list[str]:
        """Advance every master's state; log each change. Returns the masters that went down."""
        cfg = self.config
        went_down: list[str] = []
        for master in cfg.masters:
            before = self.states.get(master, MasterState())
            after = next_state(before, results[master], cfg.fall, cfg.rise)
            self.states[master] = after
            if after.status == before.status:
                continue
            if after.status == UP:
                why = (
                    f"first probe {after.detail}"
                    if before.status == UNKNOWN
                    else f"{after.good} good probes in a row"
                )
                self.log.info(f"master {master} up ({why})")
            else:
                why = (
                    "first probe failed"
                    if before.status == UNKNOWN
                    else f"{after.bad} failed probes in a row"
                )
                self.log.info(f"master {master} down ({why}: {after.detail})")
                went_down.append(master)
        return went_down

    def sync(self) -> None:
        """Bring the kernel rules to the current health; re-apply if someone changed them."""
        weights, fail_open = desired_weights(self.config.masters, self.states)
        if fail_open != self.fail_open:
            self.fail_open = fail_open
            if fail_open and self.states:
                self.log.info(
                    f"no master is healthy: sending to all {len(weights)} configured "
                    "masters (fail open)"
                )
        try:
            if self.backend.in_shape(self.config, weights):
                self.applied = dict(weights)
                self.log.recovered("rules", "rules are in shape again")
                return
            drifted = weights == self.applied
            self.backend.apply(self.config, weights)
        except CareError as exc:
            self.log.error("rules", str(exc))
            return
        self.log.recovered("rules", "rules are in shape again")
        self.applied = dict(weights)
        targets = ", ".join(m for m, w in weights.items() if w)
        cause = "rules were changed from outside; restored " if drifted else ""
        self.log.info(
            f"{cause}{self.backend.name} {self.config.vip}:{self.config.port} -> {targets}"
        )

    def reconfigure(self, config: Config, backend: Backend | None) -> None:
        old = self.config
        moved = (old.vip, old.port) != (config.vip, config.port)
        if moved or (backend is not None and backend.name != self.backend.name):
            try:
                self.backend.clean(old)
            except CareError as exc:
                self.log.error("clean", str(exc))
            self.applied = None
        if backend is not None:
            self.backend = backend
        self.states = {m: s for m, s in self.states.items() if m in config.masters}
        self.config = config
        self.log.info(
            "configuration loaded: {} {}:{} -> masters {} (interval {}s, timeout {}s, "
            "fall {}, rise {})".format(
                self.backend.name,
                config.vip,
                config.port,
                ", ".join(config.masters),
                config.interval,
                config.timeout,
                config.fall,
                config.rise,
            )
        )

    def cycle(self) -> None:
        went_down = self.observe(self.probe_all())
        self.sync()
        if self.applied is None:
            return
        for master in went_down:
            if self.applied.get(master) == 0:  # out of the rules (not kept by fail open)
                self.drop_flows(master)

    def drop_flows(self, master: str) -> None:
        """Cut established connections VIP -> a failed master, so clients reconnect at once
        (a frozen master would otherwise keep them hanging until their own timeouts)."""
        try:
            count = self.backend.drop_flows(self.config, master)
        except CareError as exc:
            self.log.error("flows", str(exc))
            return
        if count is None:
            self.log.once(
                "flows-unsupported",
                f"note: established connections to a failed master are left to the clients' "
                f"timeouts ({self.backend.name}: {self.backend.flows_note})",
            )
        elif count:
            self.log.info(f"dropped {count} established connection(s) to master {master}")


def _file_stamp(path: str) -> tuple[int, int, int] | None:
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return (stat.st_ino, stat.st_size, stat.st_mtime_ns)


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in ("vip", "port", "ca_file", "interval", "timeout", "fall", "rise", "backend"):
        value = getattr(args, key)
        if value is not None:
            out[key] = value
    if args.master:
        out["masters"] = list(args.master)
    return out


def load(args: argparse.Namespace) -> Config:
    data: dict[str, Any] = {}
    if args.config and (os.path.exists(args.config) or not args.master):
        data = read_config_file(args.config)
    data.update(_overrides(args))
    return config_from_mapping(data, args.config or "flags")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sealer-care",
        description="Balance VIP:port across the healthy Kubernetes API servers (sealer).",
    )
    parser.add_argument("--config", default=DEFAULT_CONFIG_PATH, help="JSON config file")
    parser.add_argument("--vip", help="virtual IP (IPv4)")
    parser.add_argument("--port", type=int, help="port of the VIP and of every master")
    parser.add_argument("--master", action="append", help="a master's IPv4 address (repeat)")
    parser.add_argument("--ca-file", dest="ca_file", help="cluster CA certificate (PEM)")
    parser.add_argument("--interval", type=float, help="seconds between probe rounds")
    parser.add_argument("--timeout", type=float, help="seconds one probe may take")
    parser.add_argument("--fall", type=int, help="failed probes in a row to remove a master")
    parser.add_argument("--rise", type=int, help="good probes in a row to bring it back")
    parser.add_argument("--backend", choices=BACKENDS, help="force a backend (default: auto)")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--run-once",
        action="store_true",
        help="install rules to every configured master (no probe) and exit",
    )
    mode.add_argument("--clean", action="store_true", help="delete the rules and exit")
    mode.add_argument(
        "--check-vip",
        type=int,
        metavar="N",
        help="probe https://VIP:port/readyz N times in a row through the rules; exit 0 when "
        "every answer was 200 (sealer runs this before `kubeadm join`)",
    )
    parser.add_argument("--version", action="version", version="sealer-care " + VERSION)
    return parser


def run_daemon(args: argparse.Namespace, log: Log) -> int:
    wake = threading.Event()
    flags = {"stop": False, "reload": False}

    def on_term(signum: int, frame: object) -> None:
        flags["stop"] = True
        wake.set()

    def on_hup(signum: int, frame: object) -> None:
        flags["reload"] = True
        wake.set()

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    signal.signal(signal.SIGHUP, on_hup)

    daemon: Daemon | None = None
    stamp = _file_stamp(args.config) if args.config else None
    while not flags["stop"]:
        started = time.monotonic()
        new_stamp = _file_stamp(args.config) if args.config else None
        if daemon is None or flags["reload"] or new_stamp != stamp:
            flags["reload"] = False
            stamp = new_stamp
            try:
                config = load(args)
                log.recovered("config", "configuration is valid again")
                if daemon is None:
                    daemon = Daemon(config, choose_backend(config.backend), log)
                    daemon.reconfigure(config, None)
                    daemon.start()
                    sd_notify("READY=1")
                else:
                    backend = None
                    if config.backend != daemon.config.backend:
                        backend = choose_backend(config.backend)
                    daemon.reconfigure(config, backend)
            except CareError as exc:
                log.error("config", f"{exc} (keeping the previous configuration)")
        if daemon is not None:
            daemon.cycle()
            interval = daemon.config.interval
        else:
            interval = 5.0
        wake.wait(max(0.0, interval - (time.monotonic() - started)))
        wake.clear()
    log.info("stopping on signal; the rules stay in place (run `sealer-care --clean` to remove)")
    return 0


def clean(args: argparse.Namespace, log: Log) -> int:
    """Delete the rules of both backends (the configuration only names the IPVS service)."""
    config: Config | None = None
    try:
        config = load(args)
    except CareError:
        config = None  # clean what we can without it
    done: list[str] = []
    try:
        for backend in (NftBackend(), IpvsBackend()):
            done += backend.clean(config)
    except CareError as exc:
        log.info(f"error: {exc}")
        return 1
    log.info("; ".join(done) if done else "nothing to clean")
    return 0


def run_once(args: argparse.Namespace, log: Log) -> int:
    """Rules to every configured master, without probing: before the cluster exists no master
    answers, and `kubeadm join` needs the VIP. The daemon narrows them after its first probe."""
    try:
        config = load(args)
        backend = choose_backend(config.backend)
        backend.apply(config, {m: 1 for m in config.masters})
    except CareError as exc:
        log.info(f"error: {exc}")
        return 1
    masters = ", ".join(config.masters)
    log.info(f"{backend.name} {config.vip}:{config.port} -> {masters} (run once)")
    return 0


def check_vip(args: argparse.Namespace, log: Log) -> int:
    """N probes of the VIP in a row, each a new connection (so round robin visits every
    backend): all answer 200 only when no dead master is left in the rules."""
    try:
        config = load(args)
        context = tls_context(config)
    except (CareError, OSError, ssl.SSLError) as exc:
        log.info(f"error: {exc}")
        return 1
    for number in range(1, args.check_vip + 1):
        result = probe(config.vip, config.port, "/readyz", context, config.timeout)
        if not result.ok:
            log.info(f"{config.vip}:{config.port} probe {number}: {result.detail}")
            return 1
    log.info(f"{config.vip}:{config.port}: {args.check_vip} good answers in a row")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    log = Log()
    if args.check_vip is not None:
        return check_vip(args, log)
    if args.clean:
        return clean(args, log)
    if args.run_once:
        return run_once(args, log)
    return run_daemon(args, log)


if __name__ == "__main__":
    sys.exit(main())
