"""The lab's hosts are real: SSH, hostnames, private files, process isolation."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

import asyncssh
import pytest

from sealer_lab import Lab
from tests.waiting import wait_for

pytestmark = pytest.mark.lab


async def _ssh_run(lab: Lab, address: str, command: str, **auth: object) -> str:
    async with asyncssh.connect(
        address,
        known_hosts=str(lab.known_hosts),
        **auth,  # type: ignore[arg-type]
    ) as conn:
        result = await conn.run(command, check=True)
        return str(result.stdout)


async def test_ssh_with_key_reaches_every_host(lab: Lab) -> None:
    outs = await asyncio.gather(
        *[
            _ssh_run(lab, h.address, "hostname", username="root", client_keys=[str(lab.key_path)])
            for h in lab.hosts
        ]
    )
    assert [o.strip() for o in outs] == [h.name for h in lab.hosts]


async def test_ssh_with_password_reaches_every_host(lab: Lab) -> None:
    assert lab.password
    outs = await asyncio.gather(
        *[
            _ssh_run(
                lab, h.address, "id -un", username="root", password=lab.password, client_keys=None
            )
            for h in lab.hosts
        ]
    )
    assert [o.strip() for o in outs] == ["root"] * len(lab.hosts)


async def test_wrong_password_is_refused(lab: Lab) -> None:
    with pytest.raises(asyncssh.PermissionDenied):
        await _ssh_run(
            lab, lab.hosts[0].address, "true", username="root", password="wrong", client_keys=None
        )


def test_openssh_client_with_lab_key_and_known_hosts(lab: Lab) -> None:
    host = lab.nodes[0]
    out = subprocess.run(
        lab.ssh_argv(host, ["cat", "/etc/hostname"]),
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert out.stdout.strip() == host.name


async def test_sudo_user_needs_the_password(lab: Lab) -> None:
    host = lab.masters[1]
    async with asyncssh.connect(
        host.address,
        username="alice",
        client_keys=[str(lab.key_path)],
        known_hosts=str(lab.known_hosts),
    ) as conn:
        denied = await conn.run("sudo -n id -u")
        assert denied.exit_status != 0
        ok = await conn.run("sudo -S -p '' id -u", input=f"{lab.password}\n", check=True)
        assert str(ok.stdout).strip() == "0"


def test_machine_ids_are_distinct(lab: Lab) -> None:
    ids = {lab.run(h, ["cat", "/etc/machine-id"]).stdout for h in lab.hosts}
    assert len(ids) == len(lab.hosts)
    machine = Path("/etc/machine-id")
    if machine.exists():
        assert machine.read_text() not in ids


def test_hostnames_are_distinct_and_private(lab: Lab) -> None:
    names = [lab.run(h, ["hostname"]).stdout.strip() for h in lab.hosts]
    assert names == [h.name for h in lab.hosts]
    assert len(set(names)) == len(names)
    assert subprocess.run(["hostname"], capture_output=True, text=True).stdout.strip() not in names


APPEND = "import sys; open(sys.argv[1], 'a').write(sys.argv[2])"
PRIVATE_FILES = [
    "/etc/hosts",
    "/etc/kubernetes/admin.conf",
    "/etc/systemd/system/lab-test.service",
    "/var/lib/kubelet/config.yaml",
    "/var/lib/etcd/member",
    "/etc/cni/net.d/10-lab.conf",
    "/opt/cni/bin/lab",
    "/root/lab-test",
    "/usr/local/bin/lab-test",
    "/run/lab-test",
    "/tmp/lab-test",
]


@pytest.mark.parametrize("path", PRIVATE_FILES)
def test_private_files_are_private(lab: Lab, path: str) -> None:
    writer, reader = lab.hosts[0], lab.hosts[1]
    machine_before = Path(path).read_bytes() if Path(path).exists() else None
    marker = f"written-on-{writer.name}"
    lab.run(writer, ["mkdir", "-p", str(Path(path).parent)])
    try:
        lab.run(
            writer,
            ["python3", "-c", APPEND, path, marker],
        )
        assert marker in lab.run(writer, ["cat", path]).stdout
        seen = lab.run(reader, ["cat", path], check=False).stdout
        assert marker not in seen
        machine_after = Path(path).read_bytes() if Path(path).exists() else None
        assert machine_after == machine_before
    finally:
        if path == "/etc/hosts":
            lab.run(writer, ["sed", "-i", f"/{marker}/d", path])
        else:
            lab.run(writer, ["rm", "-f", path])


def test_processes_are_invisible_across_hosts(lab: Lab) -> None:
    a, b = lab.hosts[0], lab.hosts[2]
    proc = subprocess.Popen(lab.exec_argv(a, ["sleep", "4242"]))
    try:
        wait_for(
            f"sleep 4242 running on {a.name}",
            lambda: "sleep 4242" in lab.run(a, ["ps", "-eo", "args"]).stdout,
            timeout=30,
        )
        assert "sleep 4242" not in lab.run(b, ["ps", "-eo", "args"]).stdout
        assert lab.run(b, ["pgrep", "-f", "sleep 4242"], check=False).returncode == 1
        pid_one = lab.run(b, ["ps", "-o", "comm=", "-p", "1"]).stdout.strip()
        assert pid_one == "tini"
    finally:
        lab.run(a, ["pkill", "-f", "sleep 4242"], check=False)
        proc.wait(timeout=10)


def test_interpreter_under_root_is_still_there(lab: Lab) -> None:
    import sys

    out = lab.run(lab.hosts[0], [sys.executable, "-c", "import sealer, sys; print(sys.prefix)"])
    assert out.stdout.strip() == sys.prefix


def test_names_resolve_on_the_machine_and_on_every_host(lab: Lab) -> None:
    """The lab's /etc/hosts block: every host's name, on the machine and inside each host."""
    want = {h.name: h.address for h in lab.hosts}
    # ahostsv4: the IPv4 lookup sealer makes; `getent hosts` asks for IPv6 first, which the
    # files miss, and then waits on this machine's DNS server (seconds per name)
    for name, address in want.items():
        out = subprocess.run(["getent", "ahostsv4", name], capture_output=True, text=True)
        assert out.returncode == 0 and _ipv4_names(out.stdout) == {name: address}, out
    for h in lab.hosts:
        assert _ipv4_names(lab.run(h, ["getent", "ahostsv4", *want]).stdout) == want


def _ipv4_names(getent_ahostsv4: str) -> dict[str, str]:
    """``getent ahostsv4 NAME...`` -> {name: address}: the first line of each name's answer
    is ``ADDRESS STREAM NAME``."""
    found = {}
    for line in getent_ahostsv4.splitlines():
        fields = line.split()
        if len(fields) == 3 and fields[1] == "STREAM":
            found[fields[2]] = fields[0]
    return found


def test_openssh_reaches_a_host_by_name_with_the_labs_known_hosts(lab: Lab) -> None:
    host = lab.nodes[-1]
    out = subprocess.run(
        [
            *("ssh", "-i", str(lab.key_path), "-o", "BatchMode=yes"),
            *("-o", "StrictHostKeyChecking=yes", "-o", f"UserKnownHostsFile={lab.known_hosts}"),
            *("-o", "GlobalKnownHostsFile=/dev/null", f"root@{host.name}", "hostname"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == host.name


def test_hosts_reach_each_other(lab: Lab) -> None:
    a, b = lab.hosts[0], lab.hosts[-1]
    out = lab.run(a, ["ssh-keyscan", "-T", "5", "-t", "ed25519", b.address])
    assert "ssh-ed25519" in out.stdout


async def test_fifty_sessions_on_one_connection(lab: Lab) -> None:
    host = lab.masters[0]
    async with asyncssh.connect(
        host.address,
        username="root",
        client_keys=[str(lab.key_path)],
        known_hosts=str(lab.known_hosts),
    ) as conn:
        results = await asyncio.gather(*[conn.run("sleep 0.3; hostname") for _ in range(50)])
    assert [str(r.stdout).strip() for r in results] == [host.name] * 50


async def test_sftp_works(lab: Lab) -> None:
    host = lab.nodes[1]
    async with (
        asyncssh.connect(
            host.address,
            username="root",
            client_keys=[str(lab.key_path)],
            known_hosts=str(lab.known_hosts),
        ) as conn,
        conn.start_sftp_client() as sftp,
        sftp.open("/root/sftp-test", "w") as fh,
    ):
        await fh.write("via sftp\n")
    try:
        assert lab.run(host, ["cat", "/root/sftp-test"]).stdout == "via sftp\n"
    finally:
        lab.run(host, ["rm", "-f", "/root/sftp-test"])
