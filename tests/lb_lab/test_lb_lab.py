"""The node-local load balancer end to end on a lab: installed by `sealer apply`, then broken.

One lab (3 masters, 1 node, emulated Kubernetes package, nftables backend: this kernel has no
IPVS) for the module, installed by `sealer apply` in the fixture; each test leaves the cluster
as it found it (the last one scales masters 3 -> 5 -> 3). Probe settings
are short (interval 2 s, timeout 1 s, fall 2, rise 2). Nothing here asserts a duration: every
wait polls with a generous deadline, and the figures (seconds, failed requests) are printed
as ``FIGURE`` lines (run with ``-s`` to see them; docs/load-balancer.md "On the lab").
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest

import sealer_lab
from sealer.layout import CARE_UNIT_NAME
from sealer.lb.facts import parse_nft_ruleset
from sealer_lab.kube_lab import up_kubernetes_lab
from tests.conftest import kubernetes_lab
from tests.lb_lab.labcluster import (
    APISERVER,
    CA,
    DOMAIN,
    LB,
    VERSION,
    VIP,
    Cluster,
    block_6443,
    figure,
    masters_of,
    report_requests,
    unblock_6443,
    wait_for,
)

pytestmark = [pytest.mark.lab, pytest.mark.slow]


@pytest.fixture(scope="module")
def cluster(lab_session_id: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    workdir = tmp_path_factory.mktemp("lb_lab")
    with kubernetes_lab(lab_session_id, "lb", workdir, 3, 1, version=VERSION) as lab:
        cluster = Cluster(lab)
        cluster.edit(loadBalancer=LB)
        cluster.apply()  # here, so that any one test can run alone
        yield cluster


def test_apply_puts_the_api_name_behind_the_vip(cluster: Cluster) -> None:
    node = cluster.node
    assert cluster.on(node, ["getent", "hosts", DOMAIN]).split() == [VIP, DOMAIN]
    masters = masters_of(cluster)
    assert cluster.care_masters(node) == masters
    _, seconds = wait_for(
        "every master in the node's rules",
        lambda: sorted(cluster.backends(node)) == sorted(masters),
    )
    figure("apply: all masters in the node's rules after", f"{seconds:.1f} s")
    url = f"https://{DOMAIN}:6443/healthz"
    assert cluster.on(node, ["curl", "-sS", "--fail", "--cacert", CA, url]) == "ok"
    # the CA verification is real: another CA is refused
    other = cluster.on(node, ["curl", "-sS", "--cacert", "/etc/ssl/certs/ca-certificates.crt",
                              url], check=False)  # fmt: skip
    assert other != "ok"


def test_a_blocked_master_leaves_the_rules_and_returns(cluster: Cluster) -> None:
    node, master = cluster.node, cluster.lab.masters[1].address
    masters = masters_of(cluster)
    try:
        with cluster.requests_through_vip(node) as result:
            fault = time.time()
            block_6443(cluster, master)
            _, gone = wait_for(
                "the blocked master to leave the node's rules",
                lambda: master not in (b := cluster.backends(node)) and len(b) == 2,
            )
            after_removal = time.time()
            time.sleep(6)  # requests while the master is out: none may fail
            unblock_6443(cluster, master)
            _, back = wait_for(
                "the master to come back", lambda: sorted(cluster.backends(node)) == sorted(masters)
            )
            time.sleep(2)
    finally:
        unblock_6443(cluster, master)
    figure("block: master left the rules after", f"{gone:.1f} s")
    figure("unblock: master back in the rules after", f"{back:.1f} s")
    report_requests("block", result, fault)
    assert result["total"] > result["failed"]
    late = [f for f in result["failures"] if f[0] > after_removal]
    assert not late, late


def test_a_killed_apiserver_is_restarted_by_the_kubelet(cluster: Cluster) -> None:
    node, master = cluster.node, cluster.lab.masters[2].address
    masters = masters_of(cluster)
    before = cluster.on(master, ["pgrep", "-f", APISERVER]).split()
    assert len(before) == 1, before
    seen_out = False
    with cluster.requests_through_vip(node) as result:
        fault = time.time()
        cluster.on(master, ["kill", "-KILL", before[0]])

        def restarted() -> str | None:
            nonlocal seen_out
            seen_out = seen_out or master not in cluster.backends(node)
            now = cluster.on(master, ["pgrep", "-f", APISERVER], check=False).split()
            return now[0] if now and now != before else None

        new_pid, restart = wait_for("the kubelet to start the apiserver again", restarted)
        url = f"https://{master}:6443/readyz"
        argv = ["curl", "-sS", "--max-time", "2", "--cacert", CA, url]
        _, ready = wait_for(
            "the restarted apiserver to answer",
            lambda: cluster.on(node, argv, check=False) == "ok",
        )
        answering = time.time()

        def all_back() -> bool:
            nonlocal seen_out
            backends = cluster.backends(node)
            seen_out = seen_out or master not in backends
            return sorted(backends) == sorted(masters)

        _, back = wait_for("every master in the rules again", all_back)
        time.sleep(2)
    figure("apiserver kill: new process after", f"{restart:.1f} s (pid {new_pid})")
    figure("apiserver kill: answering /readyz after", f"{restart + ready:.1f} s")
    figure("apiserver kill: master seen out of the node's rules", seen_out)
    figure("apiserver kill: all masters in the rules after", f"{restart + ready + back:.1f} s")
    report_requests("apiserver kill", result, fault)
    assert result["total"] > result["failed"]
    late = [f for f in result["failures"] if f[0] > answering]
    assert not late, late


def test_a_killed_daemon_is_restarted_and_the_rules_stay(cluster: Cluster) -> None:
    node = cluster.node
    masters = masters_of(cluster)
    pid = cluster.unit(node, CARE_UNIT_NAME, "MainPID")
    restarts = int(cluster.unit(node, CARE_UNIT_NAME, "NRestarts"))
    assert pid != "0"
    cluster.on(node, ["kill", "-KILL", pid])
    assert sorted(cluster.backends(node)) == sorted(masters)  # rules stay while it is down

    def new_main() -> str | None:
        now = cluster.unit(node, CARE_UNIT_NAME, "MainPID")
        active = cluster.lab.run(node, ["systemctl", "is-active", CARE_UNIT_NAME], check=False)
        return now if now not in ("0", pid) and active.returncode == 0 else None

    new_pid, seconds = wait_for("systemd to restart sealer-care", new_main)
    figure("daemon kill: restarted after", f"{seconds:.1f} s (RestartSec=2)")
    assert int(cluster.unit(node, CARE_UNIT_NAME, "NRestarts")) == restarts + 1
    assert "python3" in cluster.on(node, ["cat", f"/proc/{new_pid}/comm"])
    assert sorted(cluster.backends(node)) == sorted(masters)
    url = f"https://{DOMAIN}:6443/healthz"
    assert cluster.on(node, ["curl", "-sS", "--fail", "--cacert", CA, url]) == "ok"


KUBELET_DROPIN = "/etc/systemd/system/kubelet.service.d/99-lbtest-snapshot.conf"
SNAPSHOT = "[Service]\nExecStartPre=-/usr/sbin/nft -j list table ip sealer_care\n"


def _rules_when_kubelet_started(log: str) -> list[str] | None:
    """The VIP backends the drop-in's ``nft -j list`` printed just before kubelet's start."""
    for line in log.splitlines():
        if line.startswith('{"nftables"'):
            return parse_nft_ruleset(line)
        if "No such file or directory" in line:
            return []
    return None


def test_after_a_reboot_the_rules_are_back_before_kubelet(cluster: Cluster) -> None:
    node = cluster.node
    host = cluster.lab.host(node)
    masters = masters_of(cluster)
    # Witness: kubelet's ExecStartPre= lists our table at the moment kubelet is started (its
    # output goes to the unit's log, which is in /run: fresh at every boot). Test-only drop-in.
    cluster.lab.run(node, ["tee", KUBELET_DROPIN], input=SNAPSHOT)
    try:
        # A lab reboot keeps the host's network namespace, so its nftables rules survive it;
        # a real reboot loses them. Stop the daemon (which leaves its rules) and delete them,
        # so the boot starts from an empty kernel table as a real one does.
        cluster.on(node, ["systemctl", "stop", CARE_UNIT_NAME])
        cluster.on(node, ["nft", "delete", "table", "ip", "sealer_care"])
        assert cluster.backends(node) == []
        sealer_lab.reboot(cluster.lab.name, host.name)

        def kubelet_main() -> str | None:
            pid = cluster.unit(node, "kubelet.service", "MainPID")
            return None if pid == "0" else pid

        kubelet_pid, _ = wait_for("kubelet to run after the reboot", kubelet_main)
        # lab-boot goes on after starting kubelet; its status is written when it has finished
        boot_status, _ = wait_for(
            "the node's lab-boot to finish (/run/lab-boot.status)",
            lambda: cluster.on(node, ["cat", "/run/lab-boot.status"], check=False).strip() or None,
        )
        assert boot_status == "0"
        care_pid = cluster.unit(node, CARE_UNIT_NAME, "MainPID")
        assert care_pid != "0"
        care_start = cluster.start_ticks(node, care_pid)
        kubelet_start = cluster.start_ticks(node, kubelet_pid)
        ticks = kubelet_start - care_start
        figure("reboot: sealer-care main process started before kubelet's by", f"{ticks} ticks")
        log = cluster.on(node, ["cat", "/run/systemd-emu/kubelet.service.log"])
        at_kubelet_start = _rules_when_kubelet_started(log)
        figure("reboot: VIP backends when kubelet was started", at_kubelet_start)
        _, seconds = wait_for(
            "every master in the rules after the reboot",
            lambda: sorted(cluster.backends(node)) == sorted(masters),
        )
        figure("reboot: all masters in the rules, after lab reboot returned", f"{seconds:.1f} s")
        url = f"https://{DOMAIN}:6443/healthz"
        assert cluster.on(node, ["curl", "-sS", "--fail", "--cacert", CA, url]) == "ok"
    finally:
        cluster.on(node, ["rm", "-f", KUBELET_DROPIN], check=False)
        cluster.on(node, ["systemctl", "daemon-reload"], check=False)
    assert care_start <= kubelet_start
    # At boot the daemon writes rules to every configured master before its first probe.
    assert at_kubelet_start is not None and sorted(at_kubelet_start) == sorted(masters), log


def _converged(cluster: Cluster, want: list[str]) -> bool:
    """Every node's care.json and nftables map list exactly ``want``."""
    return all(
        cluster.care_masters(n.address) == want
        and sorted(cluster.backends(n.address)) == sorted(want)
        for n in cluster.lab.nodes
    )


def test_scaling_masters_3_5_3_moves_every_nodes_backends(cluster: Cluster) -> None:
    lab = up_kubernetes_lab(cluster.lab.name, 5, 1, version=VERSION, clusterfile=cluster.file)
    cluster.lab = lab
    five = [h.address for h in lab.masters]
    assert len(five) == 5
    cluster.edit(loadBalancer=LB)  # `lab up` rewrote the Clusterfile
    cluster.edit(masters=five)
    cluster.apply()
    _, seconds = wait_for("5 masters on the node", lambda: _converged(cluster, five))
    figure("scale 3->5: node converged after apply by", f"{seconds:.1f} s")
    three = five[:3]
    cluster.edit(masters=three)
    log = cluster.file.with_name("scale-down.jsonl")
    cluster.apply(log)
    records = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    # Every node's daemon had the new configuration before a removed master was drained.
    runs = [r["argv"] for r in records if r["kind"] == "run"]
    restarted = [i for i, a in enumerate(runs) if a == ["systemctl", "restart", CARE_UNIT_NAME]]
    drained = [i for i, a in enumerate(runs) if "drain" in a]
    assert len(restarted) == len(cluster.lab.nodes) and len(drained) == 2, runs
    assert max(restarted) < min(drained)
    for n in cluster.lab.nodes:  # written before apply returned
        assert cluster.care_masters(n.address) == three
    _, seconds = wait_for("3 masters on the node", lambda: _converged(cluster, three))
    figure("scale 5->3: node converged after apply by", f"{seconds:.1f} s")
    result = cluster.sealer("diff")
    assert result.returncode == 0, result.stdout + result.stderr
