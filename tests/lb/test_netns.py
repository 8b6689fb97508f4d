"""The daemon for real: nftables in a network namespace, HTTPS masters, curl through the VIP."""

from __future__ import annotations

import itertools
import shutil
import signal
import socket
import subprocess
import sys

import pytest

from tests.lb.netlab import MASTERS, VIP, NetLab, wait_for

pytestmark = [pytest.mark.lab, pytest.mark.slow]

M1, M2, M3 = MASTERS


def requests_through_vip(lab: NetLab, count: int) -> set[str]:
    """``count`` sequential requests through the VIP; all must succeed. Returns who answered."""
    answered: set[str] = set()
    for _ in range(count):
        status, body = lab.curl_vip()
        assert status == 200, (status, body, lab.dump())
        answered.add(body)
    return answered


def test_failover_recovery_and_restart(lab: NetLab) -> None:
    for master in MASTERS:
        lab.start_server(master)
    lab.write_config()
    lab.start_daemon()
    lab.wait_rules(MASTERS)
    wait_for(
        "all masters up",
        lambda: True if sum("up (first probe" in x for x in lab.log_lines()) == 3 else None,
    )
    # numgen inc: six sequential connections reach all three masters
    assert requests_through_vip(lab, 6) == set(MASTERS)

    # a stopped master leaves the rules after `fall` failed probes; the VIP keeps answering
    lab.stop_server(M1)
    lab.wait_rules([M2, M3])
    assert requests_through_vip(lab, 6) == {M2, M3}
    assert any(
        line.startswith(f"sealer-care: master {M1} down (2 failed probes in a row: connect:")
        for line in lab.log_lines()
    ), lab.dump()

    # it comes back after `rise` good probes
    lab.start_server(M1)
    lab.wait_rules(MASTERS)
    assert f"sealer-care: master {M1} up (2 good probes in a row)" in lab.log_lines()

    # an answer other than 200 is a failure
    lab.set_status(M2, 500)
    lab.wait_rules([M1, M3])
    assert f"sealer-care: master {M2} down (2 failed probes in a row: HTTP 500)" in lab.log_lines()
    assert requests_through_vip(lab, 4) == {M1, M3}

    # state changes only: each transition logged once, never a line per probe
    lines = lab.log_lines()
    assert sum(f"master {M1} down" in x for x in lines) == 1, lab.dump()
    assert sum(f"master {M2} down" in x for x in lines) == 1, lab.dump()
    assert all(a != b for a, b in itertools.pairwise(lines)), lab.dump()

    # SIGTERM: the daemon exits 0 and leaves the rules, so a restart never cuts the VIP
    assert lab.stop_daemon(signal.SIGTERM) == 0
    assert sorted(lab.rules() or []) == [M1, M3]
    assert requests_through_vip(lab, 2) <= {M1, M3}
    assert lab.log_lines()[-1].startswith("sealer-care: stopping on signal; the rules stay")

    # a restarted daemon keeps the rules it finds, then probes
    lab.start_daemon()
    lab.wait_logged("keeping existing nftables rules")
    lab.set_status(M2, 200)
    lab.wait_rules(MASTERS)
    assert lab.stop_daemon() == 0

    # --clean deletes the table
    done = lab.run(*lab.care_argv("--clean")[4:])
    assert "deleted nftables table ip sealer_care" in done.stderr
    assert lab.rules() is None


def test_run_once_installs_every_master_before_any_answers(lab: NetLab) -> None:
    lab.write_config()
    done = lab.run(*lab.care_argv("--run-once")[4:])
    assert "(run once)" in done.stderr
    assert lab.rules() == list(MASTERS)
    done = lab.run(*lab.care_argv("--clean")[4:])
    assert lab.rules() is None
    # a second clean finds nothing and still succeeds (clean is idempotent)
    done = lab.run(*lab.care_argv("--clean")[4:])
    assert "nothing to clean" in done.stderr


def test_fail_open_reload_and_drift(lab: NetLab) -> None:
    lab.write_config()
    lab.start_daemon()
    lab.wait_rules(MASTERS)
    lab.wait_logged("fail open")
    # nothing answers: every configured master stays in the rules
    assert sorted(lab.rules() or []) == sorted(MASTERS)

    # sealer rewrites the config (scale 3 -> 2): followed without a restart (mtime)
    lab.write_config(masters=[M1, M2])
    lab.wait_rules([M1, M2])

    # SIGHUP reloads too
    assert lab.daemon is not None
    loaded = sum("configuration loaded" in x for x in lab.log_lines())
    lab.daemon.send_signal(signal.SIGHUP)
    wait_for(
        "reload on SIGHUP",
        lambda: (
            True
            if sum("configuration loaded" in x for x in lab.log_lines()) == loaded + 1
            else None
        ),
    )

    # one master comes up: only it gets traffic
    lab.start_server(M2)
    lab.wait_rules([M2])
    assert requests_through_vip(lab, 3) == {M2}

    # somebody flushes the ruleset (a firewall reload): restored within an interval. The daemon
    # writes the rules first and logs after: wait for the line, not only for the rules.
    lab.run("nft", "flush", "ruleset")
    lab.wait_rules([M2])
    lab.wait_logged("rules were changed from outside; restored")

    # an invalid config is refused once and the previous one is kept
    lab.config_path.write_text("{not json")
    lab.wait_logged("keeping the previous configuration")
    assert requests_through_vip(lab, 2) == {M2}
    assert lab.stop_daemon() == 0
    assert sum("keeping the previous configuration" in x for x in lab.log_lines()) == 1


HOLD = r"""
import socket, ssl, sys, time
context = ssl.create_default_context(cafile=sys.argv[1])
vip = sys.argv[2]
held = [context.wrap_socket(socket.create_connection((vip, 6443)), server_hostname=vip)
        for _ in range(3)]
print("held", flush=True)
time.sleep(120)
"""


def flows(lab: NetLab) -> list[str]:
    """Masters that established connections through the VIP are NATed to (conntrack -L)."""
    done = lab.run("conntrack", "-L", "-p", "tcp", "--orig-dst", VIP)
    out = []
    for line in done.stdout.splitlines():
        if "ESTABLISHED" in line:
            out.append(line.split("src=")[2].split()[0])
    return sorted(out)


def test_established_connections_to_a_failed_master_are_cut(lab: NetLab) -> None:
    for master in MASTERS:
        lab.start_server(master)
    lab.write_config()
    lab.start_daemon()
    lab.wait_rules(MASTERS)
    assert lab.pki is not None
    holder = subprocess.Popen(
        lab.ns(sys.executable, "-c", HOLD, str(lab.pki.ca), VIP),
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline() == "held\n"
        lab.set_status(M1, 500)
        lab.wait_rules([M2, M3])
        if shutil.which("conntrack") is None:
            lab.wait_logged("the conntrack program is not installed")
            return
        wait_for(
            "flows to M1 dropped",
            lambda: (
                True
                if f"sealer-care: dropped 1 established connection(s) to master {M1}"
                in lab.log_lines()
                else None
            ),
        )
        # the connections to the healthy masters were left alone
        assert flows(lab) == [M2, M3]
    finally:
        holder.kill()
        holder.wait()


def test_ready_is_told_to_systemd_only_after_the_rules_exist(lab: NetLab) -> None:
    lab.write_config()
    notify = lab.workdir / "notify"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(str(notify))
        sock.settimeout(60)
        lab.start_daemon(env={"NOTIFY_SOCKET": str(notify)})
        assert sock.recv(64) == b"READY=1"
        # boot: no rules before, no master answers yet: every configured master is in
        assert lab.rules() == list(MASTERS)
