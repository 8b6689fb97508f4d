"""Lab lifecycle: idempotent up, adding hosts, reboot and the boot hook, down (also after a
crash), two labs side by side, concurrent ups, link shaping, and the CLI."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from ruamel.yaml import YAML

import sealer_lab
from sealer.errors import LabError
from sealer_lab import Lab, etc_hosts, netns
from tests.conftest import LabFactory
from tests.waiting import wait_for

pytestmark = pytest.mark.lab


def _lab_processes(lab_dir: Path) -> list[int]:
    """PIDs of processes whose command line or environment mentions the lab's directory."""
    marker = str(lab_dir).encode()
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if marker in (entry / "cmdline").read_bytes():
                pids.append(int(entry.name))
        except (FileNotFoundError, ProcessLookupError):
            continue
    return [p for p in pids if netns._alive(p)]


def _sshd_in(netns_inode: int) -> list[int]:
    return [
        p
        for p in netns.processes_in_netns(netns_inode)
        if Path(f"/proc/{p}/comm").read_text().strip() == "sshd"
    ]


def _footprint(lab: Lab) -> dict[str, object]:
    return {
        "netns": [n for n in netns.list_netns() if n.startswith(f"sealer-{lab.name}-")],
        "links": [
            link
            for link in netns.list_links()
            if link.startswith((f"sv{lab.state.lab_id}h", lab.state.bridge))
        ],
        "processes": _lab_processes(lab.dir),
        "dir": lab.dir.exists(),
        "nft": lab.state.nft_table
        in subprocess.run(["nft", "list", "tables"], capture_output=True, text=True).stdout,
        "hosts block": _has_hosts_block(lab.name),
    }


EMPTY = {
    "netns": [],
    "links": [],
    "processes": [],
    "dir": False,
    "nft": False,
    "hosts block": False,
}


def _has_hosts_block(name: str) -> bool:
    return name in etc_hosts.lab_blocks(etc_hosts.WORKSTATION_HOSTS.read_text())


def _resolves(name: str) -> str | None:
    """The address ``getent hosts NAME`` gives on this machine (None when it resolves not)."""
    out = subprocess.run(["getent", "hosts", name], capture_output=True, text=True, check=False)
    return out.stdout.split()[0] if out.returncode == 0 else None


def _wait_booted(lab: Lab, host: str) -> None:
    """The boot hook runs after sshd (which is what up and reboot wait for): wait for the
    host's boot marker, written when the hook has finished."""
    wait_for(
        f"{host}: /run/lab-booted",
        lambda: lab.run(host, ["test", "-e", "/run/lab-booted"], check=False).returncode == 0,
    )


def test_down_leaves_nothing_behind(lab_factory: LabFactory) -> None:
    lab = lab_factory("down", masters=2, nodes=1)
    inodes = [netns.netns_inode(h.netns) for h in lab.hosts]
    assert all(i is not None for i in inodes)
    assert all(_sshd_in(i) for i in inodes if i is not None)
    before = _footprint(lab)
    assert len(before["netns"]) == 3 and len(before["links"]) == 4  # type: ignore[arg-type]
    # A stray process started in a host must go too.
    stray = subprocess.Popen(lab.exec_argv(lab.hosts[0], ["sleep", "600"]), start_new_session=True)
    wait_for(
        "the stray process running in the host",
        lambda: "sleep 600" in lab.run(lab.hosts[0], ["ps", "-eo", "args"]).stdout,
    )
    assert before["hosts block"] is True
    assert _resolves(lab.hosts[0].name) == lab.hosts[0].address
    removed = sealer_lab.down(lab.name)
    assert f"bridge {lab.state.bridge}" in removed
    assert f"block '# BEGIN sealer-lab {lab.name}' of /etc/hosts" in removed
    assert _footprint(lab) == EMPTY
    assert _resolves(lab.hosts[0].name) is None
    stray.wait(timeout=30)  # ended with its host (nsenter returns when its child is gone)
    assert all(not _sshd_in(i) for i in inodes if i is not None)
    assert sealer_lab.down(lab.name) == []  # idempotent


def test_down_after_a_crash_without_state(lab_factory: LabFactory) -> None:
    lab = lab_factory("crash", masters=1, nodes=1)
    # Simulate a crash that lost the state: kill one host, delete state.json.
    init = lab.init_pid(lab.hosts[1])
    assert init is not None
    netns.kill_processes([init])
    (lab.dir / "state.json").unlink()
    sealer_lab.down(lab.name)
    assert _footprint(lab) == EMPTY


def test_up_again_is_idempotent_and_adds_hosts(lab_factory: LabFactory, tmp_path: Path) -> None:
    cf = tmp_path / "c.yaml"
    lab = lab_factory("grow", masters=1, nodes=1, clusterfile=cf)
    pids = {h.name: lab.init_pid(h) for h in lab.hosts}
    again = sealer_lab.up(lab.name, 1, 1, clusterfile=cf)
    assert again.hosts == lab.hosts
    assert {h.name: again.init_pid(h) for h in again.hosts} == pids
    grown = sealer_lab.up(lab.name, 2, 2, clusterfile=cf)
    assert [h.name for h in grown.hosts][:2] == [h.name for h in lab.hosts]
    assert {h.name: grown.init_pid(h) for h in lab.hosts} == pids
    assert len(grown.hosts) == 4 and all(s.sshd for s in sealer_lab.status(lab.name))
    # The hosts added are named in the block of the machine and of the hosts already running.
    newest = grown.nodes[-1]
    assert _resolves(newest.name) == newest.address
    first = lab.hosts[0].name
    getent = grown.run(first, ["getent", "hosts", newest.name]).stdout.split()
    assert getent == [newest.address, newest.name]
    doc = YAML(typ="safe").load(cf.read_text())
    assert doc["spec"]["masters"] == [h.address for h in grown.masters]
    assert doc["spec"]["nodes"] == [h.address for h in grown.nodes]
    assert doc["spec"]["ssh"] == {
        "user": "root",
        "privateKey": str(lab.key_path),
        "knownHosts": str(lab.known_hosts),
    }
    assert doc["metadata"]["name"] == lab.name


def test_up_restarts_a_host_whose_sshd_died(lab_factory: LabFactory) -> None:
    lab = lab_factory("heal")
    host = lab.hosts[0]
    lab.run(host, ["pkill", "-x", "sshd"])  # returns once signalled, not once sshd is gone
    wait_for("sshd to stop answering", lambda: not sealer_lab.status(lab.name)[0].sshd)
    sealer_lab.up(lab.name, 1, 0)
    assert sealer_lab.status(lab.name)[0].sshd


def test_reboot_ends_processes_clears_run_and_runs_the_boot_hook(
    lab_factory: LabFactory,
) -> None:
    lab = lab_factory("boot")
    hook = lab.sbin_dir / "lab-boot"
    hook.write_text("#!/bin/sh\necho booted-by-hook > /run/hook-ran\nsleep 1000 &\n")
    hook.chmod(0o755)
    host = lab.hosts[0]
    lab.run(
        host,
        ["sh", "-c", "echo x > /run/volatile; echo y > /etc/kept; sleep 900 >/dev/null 2>&1 &"],
    )
    lab.run(host, ["nft", "add", "table", "ip", "before_reboot"])
    old_init = lab.init_pid(host)
    sealer_lab.reboot(lab.name, host.name)
    assert lab.init_pid(host) != old_init
    # kernel rules do not survive a reboot
    assert "before_reboot" not in lab.run(host, ["nft", "list", "tables"]).stdout
    ps = lab.run(host, ["ps", "-eo", "args"]).stdout
    assert "sleep 900" not in ps
    assert lab.run(host, ["test", "-e", "/run/volatile"], check=False).returncode == 1
    assert lab.run(host, ["cat", "/etc/kept"]).stdout == "y\n"
    _wait_booted(lab, host.name)
    assert lab.run(host, ["cat", "/run/hook-ran"]).stdout == "booted-by-hook\n"
    # the hook forked `sleep 1000 &` and exited: that child execs on its own time
    wait_for(
        "the hook's background sleep 1000",
        lambda: "sleep 1000" in lab.run(host, ["ps", "-eo", "args"]).stdout,
    )
    # The hook directory is read-only inside the host.
    denied = lab.run(host, ["touch", "/usr/local/sbin/x"], check=False)
    assert denied.returncode != 0


def _tcp_from(lab: Lab, host: str, address: str, port: int) -> bool:
    probe = (
        "import socket,sys\n"
        "s=socket.socket(); s.settimeout(2)\n"
        "sys.exit(s.connect_ex((sys.argv[1], int(sys.argv[2]))))\n"
    )
    return lab.run(host, ["python3", "-c", probe, address, str(port)], check=False).returncode == 0


def test_two_labs_side_by_side_do_not_collide(lab_factory: LabFactory) -> None:
    a = lab_factory("a", masters=1, nodes=1)
    b = lab_factory("b", masters=1, nodes=1)
    assert a.state.subnet != b.state.subnet
    assert a.state.bridge != b.state.bridge
    assert not {h.address for h in a.hosts} & {h.address for h in b.hosts}
    assert not {h.netns for h in a.hosts} & {h.netns for h in b.hosts}
    # Inside a lab hosts reach each other; across labs they do not.
    assert _tcp_from(a, a.hosts[0].name, a.hosts[1].address, 22)
    assert not _tcp_from(a, a.hosts[0].name, b.hosts[0].address, 22)
    # Taking one down leaves the other whole, its /etc/hosts block too.
    assert _has_hosts_block(a.name) and _has_hosts_block(b.name)
    sealer_lab.down(a.name)
    assert all(s.sshd for s in sealer_lab.status(b.name))
    assert not _has_hosts_block(a.name) and _has_hosts_block(b.name)
    assert _resolves(b.hosts[0].name) == b.hosts[0].address


def test_concurrent_ups_pick_distinct_subnets(
    lab_session_id: str, lab_factory: LabFactory, tmp_path: Path
) -> None:
    names = [f"t{lab_session_id}-par{i}" for i in range(3)]
    env = {**os.environ, "SEALER_DEBUG": "1"}
    try:
        procs = [
            subprocess.Popen(
                [
                    *(sys.executable, "-m", "sealer", "lab", "up", "--name", n),
                    *("--masters", "1", "--nodes", "0", "-o", str(tmp_path / f"{n}.yaml")),
                    *("--output", "json"),
                ],
                stdout=subprocess.PIPE,
                env=env,
                cwd="/",
            )
            for n in names
        ]
        outs = [json.loads(p.communicate(timeout=120)[0]) for p in procs]
        assert [p.returncode for p in procs] == [0, 0, 0]
        assert len({o["subnet"] for o in outs}) == 3
    finally:
        for n in names:
            sealer_lab.down(n)


def test_bandwidth_shapes_both_directions(lab_factory: LabFactory) -> None:
    lab = lab_factory("bw", bandwidth="20mbit")
    host = lab.hosts[0]
    inside = lab.run(host, ["tc", "qdisc", "show", "dev", "eth0"]).stdout
    outside = subprocess.run(
        ["tc", "qdisc", "show", "dev", host.veth], capture_output=True, text=True, check=True
    ).stdout
    assert "tbf" in inside and "20Mbit" in inside
    assert "tbf" in outside and "20Mbit" in outside
    sealer_lab.up(lab.name, 1, 0, bandwidth="")
    assert "tbf" not in lab.run(host, ["tc", "qdisc", "show", "dev", "eth0"]).stdout


def test_ports_and_clusterfile_overrides(lab_factory: LabFactory, tmp_path: Path) -> None:
    cf = tmp_path / "ports.yaml"
    lab = lab_factory("port", 1, 1, ssh_port=2222, host_ports={"node-1": 2200}, clusterfile=cf)
    m, n = lab.masters[0], lab.nodes[0]
    assert (m.ssh_port, n.ssh_port) == (2222, 2200)
    with socket.create_connection((n.address, 2200), timeout=5) as s:
        assert s.recv(8).startswith(b"SSH-")
    doc = YAML(typ="safe").load(cf.read_text())
    assert doc["spec"]["hosts"] == {
        m.address: {"ssh": {"port": 2222}},
        n.address: {"ssh": {"port": 2200}},
    }
    known = lab.known_hosts.read_text()
    assert f"[{n.address}]:2200,[{n.name}]:2200 ssh-ed25519 " in known


def test_cli_up_status_down(lab_session_id: str, tmp_path: Path) -> None:
    from sealer.cli import main

    name = f"t{lab_session_id}-cli"
    cf = tmp_path / "cli.yaml"
    try:
        up = ["lab", "up", "--name", name, "--masters", "1", "--nodes", "1", "-o", str(cf)]
        assert main(up) == 0
        assert cf.exists()
        assert main(["lab", "status", "--name", name, "--output", "json"]) == 0
        assert main(["lab", "exec", "--name", name, "node-1", "--", "test", "-d", "/run/sshd"]) == 0
        assert main(["lab", "exec", "--name", name, "node-1", "--", "false"]) == 1
        before = sealer_lab.get(name).init_pid(sealer_lab.get(name).host("node-1"))
        assert main(["lab", "reboot", "--name", name, "node-1"]) == 0
        after = sealer_lab.get(name).init_pid(sealer_lab.get(name).host("node-1"))
        assert after is not None and after != before
    finally:
        assert main(["lab", "down", "--name", name]) == 0
    assert not cf.exists()
    assert main(["lab", "status", "--name", name]) == 1  # no such lab: an error, not a crash


def test_bad_names_and_rates_are_refused() -> None:
    with pytest.raises(LabError, match="not valid"):
        sealer_lab.up("Bad_Name", 1, 0)
    with pytest.raises(LabError, match="tc rate"):
        sealer_lab.up("tok", 1, 0, bandwidth="fast")


def test_boot_hook_placed_before_up_runs_at_first_boot_after_sshd(
    lab_session_id: str, lab_factory: LabFactory
) -> None:
    sbin = sealer_lab.lab_dir(f"t{lab_session_id}-first") / "sbin"
    sbin.mkdir(parents=True)
    hook = sbin / "lab-boot"
    hook.write_text("#!/bin/sh\n[ -s /run/sshd.pid ] && echo sshd-was-up > /run/hook-saw\n")
    hook.chmod(0o755)
    lab = lab_factory("first", masters=1, nodes=1)
    for host in lab.hosts:
        _wait_booted(lab, host.name)
        assert lab.run(host, ["cat", "/run/hook-saw"]).stdout == "sshd-was-up\n"
        assert lab.run(host, ["cat", "/run/lab-boot.status"]).stdout == "0\n"


def test_down_finds_hosts_whose_namespace_file_is_gone(lab_factory: LabFactory) -> None:
    lab = lab_factory("lost", masters=1, nodes=1)
    for host in lab.hosts:  # the namespaces live on, held by the hosts' processes
        subprocess.run(["ip", "netns", "delete", host.netns], check=True)
    assert _lab_processes(lab.dir)
    sealer_lab.down(lab.name)
    assert _footprint(lab) == EMPTY


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"sudo_user": "root"}, "sudo user"),
        ({"sudo_user": "Bad User"}, "sudo user"),
        ({"ssh_port": 70000}, "not a TCP port"),
        ({"host_ports": {"node-9": 2222}}, "not a host"),
    ],
)
def test_bad_options_are_refused_before_anything_is_made(
    options: dict[str, object], message: str
) -> None:
    with pytest.raises(LabError, match=message):
        sealer_lab.up("tbadopts", 1, 1, **options)  # type: ignore[arg-type]
    assert not sealer_lab.lab_dir("tbadopts").exists()
