"""The preflight facts' parsers, on outputs of the real tools (tests/facts/fixtures)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sealer.connect import Result
from sealer.facts.base import UnexpectedExit
from sealer.facts.preflight import (
    CHECKED_COMMANDS,
    PREFLIGHT_FACTS,
    RUNTIME_COMMANDS,
    DiskFree,
    parse_builtin_modules,
    parse_cgroup_fs,
    parse_clock,
    parse_command_path,
    parse_df,
    parse_listening,
    parse_lsmod,
    parse_machine_id,
    parse_swaps,
    parse_sysctls,
    preflight_of,
)

FIXTURES = Path(__file__).parent / "fixtures"


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text()


def ok(stdout: str) -> Result:
    return Result(0, stdout, "")


def test_swaps() -> None:
    assert parse_swaps(ok("")) == ()
    assert parse_swaps(ok("/swapfile\n/dev/vda3\n")) == ("/swapfile", "/dev/vda3")
    with pytest.raises(UnexpectedExit):
        parse_swaps(Result(1, "", "swapon: bad usage"))


def test_lsmod_and_builtin_modules() -> None:
    assert parse_lsmod(ok(fixture("lsmod.txt"))) == {
        "br_netfilter",
        "bridge",
        "overlay",
        "nf_tables",
    }
    assert parse_lsmod(ok("Module                  Size  Used by\n")) == frozenset()
    builtin = parse_builtin_modules(ok(fixture("modules.builtin")))
    assert {"overlay", "br_netfilter", "crc32c_generic"} == builtin
    assert parse_builtin_modules(Result(1, "", "")) == frozenset()


def test_sysctls_reads_the_keys_that_exist() -> None:
    both = "net.ipv4.ip_forward = 1\nnet.bridge.bridge-nf-call-iptables = 0\n"
    assert parse_sysctls(ok(both)) == {
        "net.ipv4.ip_forward": "1",
        "net.bridge.bridge-nf-call-iptables": "0",
    }
    missing = Result(
        255,
        "net.ipv4.ip_forward = 0\n",
        "sysctl: cannot stat /proc/sys/net/bridge/bridge-nf-call-iptables: No such file or "
        "directory\n",
    )
    assert parse_sysctls(missing) == {"net.ipv4.ip_forward": "0"}
    with pytest.raises(UnexpectedExit):
        parse_sysctls(Result(1, "", "sysctl: permission denied"))


def test_listening_ports_name_the_process_when_ss_can() -> None:
    ports = parse_listening(ok(fixture("ss-Htlnp.master")))
    assert ports == {6443: "python3 (pid 812)", 22: "sshd (pid 31)", 2379: "etcd (pid 901)",
                     10250: ""}  # fmt: skip
    assert parse_listening(ok("")) == {}
    header = "State  Recv-Q Send-Q Local Address:Port Peer Address:Port\n"
    assert parse_listening(ok(header + "LISTEN 0 128 0.0.0.0:22 0.0.0.0:*\n")) == {22: ""}
    with pytest.raises(ValueError):
        parse_listening(ok("LISTEN 0 1 nonsense 0.0.0.0:*\n"))


def test_machine_id_clock_cgroup() -> None:
    assert parse_machine_id(ok("3d1219c7c4c5404aaa1f6d2a48adfda4\n")) == (
        "3d1219c7c4c5404aaa1f6d2a48adfda4"
    )
    no_file = Result(1, "", "cat: /etc/machine-id: No such file or directory")
    assert parse_machine_id(no_file) is None
    assert parse_machine_id(ok("\n")) is None
    assert parse_clock(ok("1796186276.459672992\n")) == pytest.approx(1796186276.46)
    assert parse_cgroup_fs(ok("cgroup2fs\n")) == 2
    assert parse_cgroup_fs(ok("tmpfs\n")) == 1
    with pytest.raises(ValueError):
        parse_cgroup_fs(ok("ext4\n"))


def test_df_with_and_without_a_disk_for_etcd() -> None:
    assert parse_df(ok(fixture("df-Pk.two-disks"))) == DiskFree(
        package=79339300 * 1024, etcd=9690384 * 1024
    )
    one = fixture("df-Pk.two-disks").splitlines()[:2]
    no_etcd = Result(1, "\n".join(one) + "\n", "df: /var/lib/etcd: No such file or directory\n")
    assert parse_df(no_etcd) == DiskFree(package=79339300 * 1024, etcd=79339300 * 1024)
    with pytest.raises(UnexpectedExit):
        parse_df(Result(1, "", "df: /var/lib: No such file or directory\n"))


def test_command_path() -> None:
    assert parse_command_path(ok("/usr/sbin/nft\n")) == "/usr/sbin/nft"
    assert parse_command_path(Result(1, "", "")) is None
    assert parse_command_path(Result(127, "", "sh: 1: command: not found")) is None


def test_preflight_of_reads_the_results_in_the_facts_order() -> None:
    commands = {"tar": "/usr/bin/tar", "nft": "/usr/sbin/nft"}
    runtimes = {"containerd": "/usr/bin/containerd"}
    found = [
        ("/swapfile",),
        frozenset({"overlay"}),
        frozenset({"br_netfilter"}),
        {"net.ipv4.ip_forward": "1"},
        {6443: "x (pid 1)"},
        "abc",
        1000.0,
        DiskFree(1, 2),
        2,
        *(commands.get(c) for c in CHECKED_COMMANDS),
        *(runtimes.get(c) for c in RUNTIME_COMMANDS),
    ]
    assert len(found) == len(PREFLIGHT_FACTS)
    pre = preflight_of(found, started=990.0, ended=994.0)
    assert pre.swaps == ("/swapfile",)
    assert pre.modules == {"overlay", "br_netfilter"}
    assert pre.sysctl("net.ipv4.ip_forward") == "1"
    assert pre.sysctl("net.bridge.bridge-nf-call-iptables") is None
    assert pre.listening == ((6443, "x (pid 1)"),)
    assert pre.clock_skew == pytest.approx(8.0)
    assert pre.clock_uncertainty == pytest.approx(2.0)
    assert pre.command("tar") == "/usr/bin/tar"
    assert pre.command("python3") is None
    assert pre.command("containerd") == "/usr/bin/containerd"
