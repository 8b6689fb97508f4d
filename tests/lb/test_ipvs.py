"""IPVS backend: the ipvsadm parser and the argv lists it derives (no IPVS kernel here)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from sealer.lb import IpvsRealServer, IpvsService, LbError, parse_ipvsadm
from sealer.lb.care import (
    Completed,
    Config,
    IpvsBackend,
    ipvs_service_commands,
    ipvs_vip_commands,
    parse_ip_addr_show,
)

FIXTURES = Path(__file__).parent / "fixtures"
VIP = "10.103.97.2"


def test_parse_ipvsadm_fixture() -> None:
    services = parse_ipvsadm((FIXTURES / "ipvsadm-Ln.txt").read_text())
    assert [(s.protocol, s.address, s.port, s.scheduler) for s in services] == [
        ("TCP", "10.96.0.1", 443, "rr"),
        ("TCP", VIP, 6443, "rr"),
        ("TCP", "10.96.0.10", 9153, "rr"),
        ("UDP", "10.96.0.10", 53, "rr"),
        ("TCP", "fd00::1", 443, "wrr"),
    ]
    ours = services[1]
    assert ours.reals == (
        IpvsRealServer("192.168.10.11", 6443, "Masq", 1, 2, 0),
        IpvsRealServer("192.168.10.12", 6443, "Masq", 0, 0, 3),
        IpvsRealServer("192.168.10.13", 6443, "Route", 1, 1, 1),
    )
    assert services[2].reals == ()
    # the firewall-mark service's real server is not given to the UDP service before it
    assert [r.address for r in services[3].reals] == ["100.64.0.5"]


def test_parse_ipvsadm_empty_and_garbage() -> None:
    assert parse_ipvsadm("IP Virtual Server version 1.2.1 (size=4096)\n") == []
    with pytest.raises(LbError, match="unexpected line"):
        parse_ipvsadm("TCP  10.103.97.2:6443 rr\nsomething else\n")
    with pytest.raises(LbError, match="before any virtual service"):
        parse_ipvsadm("  -> 10.0.0.1:6443 Masq 1 0 0\n")


def test_commands_create_service_with_masq_real_servers() -> None:
    assert ipvs_service_commands(None, VIP, 6443, {"10.0.0.11": 1, "10.0.0.12": 1}) == [
        ["ipvsadm", "-A", "-t", f"{VIP}:6443", "-s", "rr"],
        ["ipvsadm", "-a", "-t", f"{VIP}:6443", "-r", "10.0.0.11:6443", "-m", "-w", "1"],
        ["ipvsadm", "-a", "-t", f"{VIP}:6443", "-r", "10.0.0.12:6443", "-m", "-w", "1"],
    ]


def test_commands_weight_zero_then_delete_when_gone_from_config() -> None:
    current = parse_ipvsadm((FIXTURES / "ipvsadm-Ln.txt").read_text())[1]
    # .11 goes down (weight 0, kept: established connections drain), .12 recovers,
    # .13 was Route (fixed to Masq), .14 is new; nothing leaves
    argv = ipvs_service_commands(
        current,
        VIP,
        6443,
        {"192.168.10.11": 0, "192.168.10.12": 1, "192.168.10.13": 1, "192.168.10.14": 1},
    )
    svc = ["-t", f"{VIP}:6443"]
    assert argv == [
        ["ipvsadm", "-e", *svc, "-r", "192.168.10.11:6443", "-m", "-w", "0"],
        ["ipvsadm", "-e", *svc, "-r", "192.168.10.12:6443", "-m", "-w", "1"],
        ["ipvsadm", "-e", *svc, "-r", "192.168.10.13:6443", "-m", "-w", "1"],
        ["ipvsadm", "-a", *svc, "-r", "192.168.10.14:6443", "-m", "-w", "1"],
    ]
    # scale down: .13 left the configuration -> deleted, after the edits
    argv = ipvs_service_commands(current, VIP, 6443, {"192.168.10.11": 1, "192.168.10.12": 1})
    assert argv == [
        ["ipvsadm", "-e", *svc, "-r", "192.168.10.12:6443", "-m", "-w", "1"],
        ["ipvsadm", "-d", *svc, "-r", "192.168.10.13:6443"],
    ]


def test_commands_in_shape_is_empty_and_scheduler_is_fixed() -> None:
    real = IpvsRealServer("10.0.0.11", 6443, "Masq", 1)
    current = IpvsService("TCP", VIP, 6443, "rr", (real,))
    assert ipvs_service_commands(current, VIP, 6443, {"10.0.0.11": 1}) == []
    wlc = IpvsService("TCP", VIP, 6443, "wlc", (real,))
    assert ipvs_service_commands(wlc, VIP, 6443, {"10.0.0.11": 1}) == [
        ["ipvsadm", "-E", "-t", f"{VIP}:6443", "-s", "rr"]
    ]


def test_vip_link_commands() -> None:
    assert ipvs_vip_commands(False, [], VIP) == [
        ["ip", "link", "add", "sealer-vip", "type", "dummy"],
        ["ip", "link", "set", "sealer-vip", "up"],
        ["ip", "addr", "add", f"{VIP}/32", "dev", "sealer-vip"],
    ]
    assert ipvs_vip_commands(True, [f"{VIP}/32"], VIP) == [
        ["ip", "link", "set", "sealer-vip", "up"]
    ]
    assert ipvs_vip_commands(True, ["10.9.9.9/32"], VIP) == [
        ["ip", "link", "set", "sealer-vip", "up"],
        ["ip", "addr", "del", "10.9.9.9/32", "dev", "sealer-vip"],
        ["ip", "addr", "add", f"{VIP}/32", "dev", "sealer-vip"],
    ]


def test_parse_ip_addr_show() -> None:
    text = (
        "7: sealer-vip    inet 10.103.97.2/32 scope global sealer-vip\\       valid_lft forever"
        " preferred_lft forever\n"
    )
    assert parse_ip_addr_show(text) == ["10.103.97.2/32"]
    assert parse_ip_addr_show("") == []


class RecordingHost:
    """Answers ipvsadm/ip reads from fixture text and records every argv (tier-2 test)."""

    def __init__(self, ipvsadm_out: str, link_out: str | None) -> None:
        self.ipvsadm_out = ipvsadm_out
        self.link_out = link_out
        self.calls: list[list[str]] = []

    def __call__(self, argv: Sequence[str], stdin: str | None) -> Completed:
        self.calls.append(list(argv))
        if list(argv) == ["ipvsadm", "-Ln"]:
            return Completed(tuple(argv), 0, self.ipvsadm_out, "")
        if argv[:3] == ["ip", "-o", "-4"]:
            if self.link_out is None:
                return Completed(tuple(argv), 1, "", 'Device "sealer-vip" does not exist.')
            return Completed(tuple(argv), 0, self.link_out, "")
        return Completed(tuple(argv), 0, "", "")


def test_backend_apply_on_a_bare_node_and_in_shape() -> None:
    host = RecordingHost("IP Virtual Server version 1.2.1 (size=4096)\n", None)
    backend = IpvsBackend(host)
    config = Config(vip=VIP, masters=("10.0.0.11", "10.0.0.12"))
    weights = {"10.0.0.11": 1, "10.0.0.12": 0}
    assert not backend.in_shape(config, weights)
    host.calls.clear()
    backend.apply(config, weights)
    changes = [
        c for c in host.calls if c not in (["ipvsadm", "-Ln"],) and c[:3] != ["ip", "-o", "-4"]
    ]
    assert changes == [
        ["ip", "link", "add", "sealer-vip", "type", "dummy"],
        ["ip", "link", "set", "sealer-vip", "up"],
        ["ip", "addr", "add", f"{VIP}/32", "dev", "sealer-vip"],
        ["ipvsadm", "-A", "-t", f"{VIP}:6443", "-s", "rr"],
        ["ipvsadm", "-a", "-t", f"{VIP}:6443", "-r", "10.0.0.11:6443", "-m", "-w", "1"],
        ["ipvsadm", "-a", "-t", f"{VIP}:6443", "-r", "10.0.0.12:6443", "-m", "-w", "0"],
    ]
    done = RecordingHost(
        f"TCP  {VIP}:6443 rr\n  -> 10.0.0.11:6443 Masq 1 0 0\n  -> 10.0.0.12:6443 Masq 0 0 0\n",
        f"7: sealer-vip    inet {VIP}/32 scope global sealer-vip\n",
    )
    assert IpvsBackend(done).in_shape(config, weights)
    assert IpvsBackend(done).has_rules(config) == ("10.0.0.11",)
