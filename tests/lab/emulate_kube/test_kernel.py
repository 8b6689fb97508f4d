"""The lab's kernel programs (lsmod, modprobe, sysctl, swapon, swapoff) keep the real command
lines, output and exit statuses, on a per-host state file; sealer's own parsers read them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sealer.connect import Result
from sealer.facts.preflight import parse_lsmod, parse_swaps, parse_sysctls
from sealer_lab.emulate import kernel

BRIDGE = "net.bridge.bridge-nf-call-iptables"


@pytest.fixture
def host(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    etc = tmp_path / "etc"
    (etc / "sealer-lab").mkdir(parents=True)
    proc = tmp_path / "proc-sys"
    (proc / "net" / "ipv4").mkdir(parents=True)
    (proc / "net" / "ipv4" / "ip_forward").write_text("0\n")
    monkeypatch.setenv("SEALER_LAB_ETC", str(etc))
    monkeypatch.setenv("SEALER_LAB_KERNEL_BOOT", str(etc / "sealer-lab" / "kernel.json"))
    monkeypatch.setenv("SEALER_LAB_KERNEL_STATE", str(tmp_path / "run" / "kernel.json"))
    monkeypatch.setenv("SEALER_LAB_PROC_SYS", str(proc))
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], name: str, *argv: str) -> Result:
    status = kernel.main(list(argv), name)
    out = capsys.readouterr()
    return Result(status, out.out, out.err)


def reboot(host: Path) -> None:
    (host / "run" / "kernel.json").unlink()


def test_a_host_without_settings_boots_prepared(
    host: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert {"overlay", "br_netfilter"} <= parse_lsmod(run(capsys, "lsmod"))
    values = parse_sysctls(run(capsys, "sysctl", "net.ipv4.ip_forward", BRIDGE))
    assert values == {"net.ipv4.ip_forward": "1", BRIDGE: "1"}
    assert parse_swaps(run(capsys, "swapon", "--show=NAME", "--noheadings", "--raw")) == ()


def test_a_missing_module_hides_its_sysctl_until_modprobe(
    host: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = {"unloaded": ["br_netfilter"], "sysctl": {"net.ipv4.ip_forward": "0"}}
    (host / "etc" / "sealer-lab" / "kernel.json").write_text(json.dumps(settings))
    assert "br_netfilter" not in parse_lsmod(run(capsys, "lsmod"))
    read = run(capsys, "sysctl", "net.ipv4.ip_forward", BRIDGE)
    assert read.exit_status == 255
    assert (
        read.stderr.startswith("sysctl: cannot stat ") and "bridge-nf-call-iptables" in read.stderr
    )
    assert parse_sysctls(read) == {"net.ipv4.ip_forward": "0"}
    assert run(capsys, "sysctl", "-w", f"{BRIDGE}=1").exit_status == 255
    assert run(capsys, "modprobe", "--", "br_netfilter").exit_status == 0
    assert {"bridge", "br_netfilter"} <= parse_lsmod(run(capsys, "lsmod"))
    assert run(capsys, "sysctl", "-w", f"{BRIDGE}=1", "net.ipv4.ip_forward=1").stdout == (
        f"{BRIDGE} = 1\nnet.ipv4.ip_forward = 1\n"
    )
    # ip_forward is the network namespace's own: written through
    assert (host / "proc-sys" / "net" / "ipv4" / "ip_forward").read_text() == "1\n"
    missing = run(capsys, "modprobe", "nosuchmod")
    assert missing.exit_status == 1
    assert missing.stderr.startswith("modprobe: FATAL: Module nosuchmod not found in directory")


def test_boot_applies_modules_load_d_sysctl_d_and_fstab_swap(
    host: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    etc = host / "etc"
    settings = {"unloaded": ["br_netfilter"], "sysctl": {"net.ipv4.ip_forward": "0"},
                "swap": ["/swapfile"]}  # fmt: skip
    (etc / "sealer-lab" / "kernel.json").write_text(json.dumps(settings))
    (etc / "fstab").write_text("/swapfile none swap sw 0 0\n")
    assert parse_swaps(run(capsys, "swapon", "--show=NAME", "--noheadings", "--raw")) == (
        "/swapfile",
    )
    assert run(capsys, "swapoff", "-a").exit_status == 0
    assert run(capsys, "swapon", "--show").stdout == ""
    reboot(host)  # fstab still lists it: on again
    assert run(capsys, "swapon", "--show=NAME", "--noheadings", "--raw").stdout == "/swapfile\n"
    (etc / "fstab").write_text("#sealer-swapoff# /swapfile none swap sw 0 0\n")
    (etc / "modules-load.d").mkdir()
    (etc / "modules-load.d" / "sealer.conf").write_text("# x\nbr_netfilter\n")
    (etc / "sysctl.d").mkdir()
    (etc / "sysctl.d" / "99-sealer.conf").write_text(f"net.ipv4.ip_forward = 1\n{BRIDGE} = 1\n")
    reboot(host)
    assert run(capsys, "swapon", "--show=NAME", "--noheadings", "--raw").stdout == ""
    assert "br_netfilter" in parse_lsmod(run(capsys, "lsmod"))
    assert run(capsys, "sysctl", "-n", "net.ipv4.ip_forward", BRIDGE).stdout == "1\n1\n"


def test_wrong_command_lines_fail_as_the_real_programs(
    host: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "swapoff").exit_status == 1
    assert run(capsys, "swapoff", "/nope").exit_status == 255
    assert run(capsys, "modprobe").exit_status == 1
    assert run(capsys, "lsmod", "-x").exit_status == 1
    assert run(capsys, "sysctl", "--bogus").exit_status == 1
    assert run(capsys, "sysctl", "-w", "novalue").exit_status == 255
