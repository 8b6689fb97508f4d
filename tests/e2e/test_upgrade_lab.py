"""Rolling upgrades end to end: edit spec.version, `sealer apply`, and the cluster upgrades.

One lab for the module (3 masters, 2 nodes), one cluster, chained as an operator's day:
create at v1.29.3; upgrade to v1.30.2 while a client on a node polls /readyz through the VIP;
a minor skip and a downgrade refused with nothing changed; the upgrade to v1.31.0 with sshd
killed on the node of the second batch (the run stops with that node cordoned and named),
then, sshd back, `apply` finishes it.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

import sealer_lab
from sealer.facts.cluster import UPGRADING_ANNOTATION
from sealer.layout import STAGED_DIR
from sealer_lab.package import build_package
from sealer_lab.sshd import SSHD_ARGV
from tests.conftest import kubernetes_lab
from tests.sealer_cli import run_sealer
from tests.waiting import wait_for

pytestmark = [pytest.mark.lab, pytest.mark.slow]

FIRST, SECOND, THIRD = "v1.29.3", "v1.30.2", "v1.31.0"
ADMIN = ["kubectl", "--kubeconfig", "/etc/kubernetes/admin.conf"]

#: Polls https://VIP:6443/readyz from a node with the kubelet's client certificate, twice a
#: second, until SIGTERM; keeps "ok failed" counts in the file named by argv[2].
POLLER = r"""
import os, signal, ssl, sys, time, urllib.request
vip, out = sys.argv[1], sys.argv[2]
ctx = ssl.create_default_context(cafile="/etc/kubernetes/pki/ca.crt")
ctx.check_hostname = False
ctx.load_cert_chain("/var/lib/kubelet/pki/kubelet-client-current.pem")
ok = failed = 0
running = True
def stop(*_):
    global running
    running = False
signal.signal(signal.SIGTERM, stop)
while running:
    try:
        with urllib.request.urlopen(f"https://{vip}:6443/readyz", context=ctx, timeout=3) as r:
            ok += r.status == 200
            failed += r.status != 200
    except Exception:
        failed += 1
    with open(out + ".tmp", "w") as f:
        f.write(f"{ok} {failed}\n")
    os.replace(out + ".tmp", out)
    time.sleep(0.5)
"""


class Cluster:
    def __init__(self, lab: sealer_lab.Lab, workdir: Path) -> None:
        self.lab = lab
        self.workdir = workdir
        assert lab.clusterfile is not None
        self.file = lab.clusterfile
        self.m0 = lab.masters[0].address

    def sealer(self, verb: str, *extra: str) -> subprocess.CompletedProcess[str]:
        args = [verb, "-f", str(self.file), "--known-hosts", str(self.lab.known_hosts), *extra]
        return run_sealer(*args, timeout=1800)

    def want(self, version: str) -> None:
        """spec.version and spec.package of ``version`` (its package built into the lab)."""
        package = self.lab.dir / f"kube{version.lstrip('v')}.tar.gz"
        if not package.exists():
            build_package(version, package)
        yaml = YAML()
        data = yaml.load(self.file.read_text())
        data["spec"]["version"] = version
        data["spec"]["package"] = str(package)
        with self.file.open("w") as handle:
            yaml.dump(data, handle)

    def nodes(self) -> dict[str, dict[str, Any]]:
        out = self.lab.run(self.m0, [*ADMIN, "get", "nodes", "-o", "json"]).stdout
        return {n["metadata"]["name"]: n for n in json.loads(out)["items"]}

    def nodes_while_upgrading(self) -> dict[str, dict[str, Any]] | None:
        """The Nodes as any master answers, or None while none does (an upgrade restarts
        their API servers and etcd members)."""
        for master in self.lab.masters:
            found = self.lab.run(
                master.address, [*ADMIN, "get", "nodes", "-o", "json"], check=False
            )
            if found.returncode == 0:
                return {n["metadata"]["name"]: n for n in json.loads(found.stdout)["items"]}
        return None

    def name_of(self, address: str) -> str:
        """The Node of the host at ``address`` (by its InternalIP)."""
        for name, n in self.nodes().items():
            if {"type": "InternalIP", "address": address} in n["status"]["addresses"]:
                return name
        raise AssertionError(f"no Node has the address {address}")

    def versions(self) -> dict[str, str]:
        return {k: n["status"]["nodeInfo"]["kubeletVersion"] for k, n in self.nodes().items()}

    def uids(self) -> dict[str, str]:
        return {k: n["metadata"]["uid"] for k, n in self.nodes().items()}

    def server_version(self) -> str:
        out = self.lab.run(self.m0, [*ADMIN, "version", "-o", "json"]).stdout
        return str(json.loads(out)["serverVersion"]["gitVersion"])

    def staged(self) -> list[str]:
        """Hosts holding a staged package."""
        return [
            h.address
            for h in self.lab.state.hosts
            if self.lab.run(h.address, ["test", "-e", STAGED_DIR], check=False).returncode == 0
        ]

    def upgraded_to(self, version: str) -> None:
        """Every Node at ``version`` and Ready, the API server reports it, nothing cordoned,
        and diff finds nothing to do."""
        nodes = self.nodes()
        assert {k: n["status"]["nodeInfo"]["kubeletVersion"] for k, n in nodes.items()} == {
            k: version for k in nodes
        }
        assert not [k for k, n in nodes.items() if n["spec"].get("unschedulable")]
        assert self.server_version() == version
        manifest = self.lab.run(
            self.lab.masters[2].address, ["cat", "/etc/kubernetes/manifests/kube-apiserver.yaml"]
        ).stdout
        assert f"/kube-apiserver:{version}" in manifest
        diff = self.sealer("diff")
        assert diff.returncode == 0, diff.stdout + diff.stderr


@pytest.fixture(scope="module")
def cluster(lab_session_id: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    workdir = tmp_path_factory.mktemp("upgrade")
    with kubernetes_lab(lab_session_id, "upg", workdir, 3, 2, version=FIRST) as lab:
        made = Cluster(lab, workdir)
        created = made.sealer("apply", "--yes", "--quiet")
        assert created.returncode == 0, created.stdout + created.stderr
        yield made


def test_upgrade_one_minor_keeps_the_api_answering(cluster: Cluster) -> None:
    uids = cluster.uids()
    assert set(cluster.versions().values()) == {FIRST}
    node = cluster.lab.nodes[0]
    counts = "/var/log/readyz-counts"  # on the node (its /tmp and /var/log are its own)

    def read_counts() -> str | None:
        found = cluster.lab.run(node, ["cat", counts], check=False)
        return found.stdout.strip() or None if found.returncode == 0 else None

    vip = YAML().load(cluster.file.read_text())["spec"].get("vip", "10.103.97.2")
    poller = subprocess.Popen(
        cluster.lab.exec_argv(node, [sys.executable, "-c", POLLER, vip, counts]),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for("the poller's first answer", read_counts, 60)
        cluster.want(SECOND)
        diff = cluster.sealer("diff", "--output", "json")
        assert diff.returncode == 2, diff.stdout + diff.stderr
        steps = json.loads(diff.stdout)["steps"]
        upgrades = [s for s in steps if s["name"] in ("upgrade-master", "upgrade-node")]
        assert [s["host"] for s in upgrades] == [
            h.address for h in [*cluster.lab.masters, *cluster.lab.nodes]
        ]
        assert all(s["why"].startswith(f"{FIRST} -> {SECOND}") for s in upgrades)
        assert upgrades[-1]["flags"] == ["batch-2-of-2"]
        applied = cluster.sealer("apply", "--yes", "--quiet")
        assert applied.returncode == 0, applied.stdout + applied.stderr
    finally:
        poller.send_signal(signal.SIGTERM)
        poller.wait(30)
    ok, failed = (int(x) for x in (read_counts() or "0 0").split())
    print(f"\n/readyz through the VIP during the upgrade: {ok} ok, {failed} failed")
    assert ok > 0 and failed <= 0.05 * (ok + failed), (ok, failed, poller.stderr)
    cluster.upgraded_to(SECOND)
    assert cluster.uids() == uids
    assert cluster.staged() == []


def test_a_minor_skip_and_a_downgrade_are_refused_and_nothing_changes(cluster: Cluster) -> None:
    before = cluster.versions()
    cluster.want("v1.32.0")
    skip = cluster.sealer("apply", "--yes", "--quiet")
    assert skip.returncode == 1
    assert "kubeadm upgrades one minor version at a time. Apply v1.31.x first" in skip.stderr
    assert "Traceback" not in skip.stderr
    cluster.want(FIRST)
    down = cluster.sealer("apply", "--yes", "--quiet")
    assert down.returncode == 1
    assert f"that is a downgrade, which kubeadm does not do. Put version: {SECOND}" in down.stderr
    assert cluster.versions() == before and cluster.server_version() == SECOND
    assert cluster.staged() == []


def _kill_sshd(cluster: Cluster, address: str) -> None:
    """Every sshd process of the host (the listener and the session sealer holds)."""
    found = cluster.lab.run(address, ["pgrep", "-x", "sshd"], check=False).stdout.split()
    if found:
        cluster.lab.run(address, ["kill", "-9", *found], check=False)


def test_a_node_lost_in_its_batch_stops_the_run_cordoned_then_apply_finishes(
    cluster: Cluster,
) -> None:
    first, second = cluster.lab.nodes[0], cluster.lab.nodes[1]
    first_name, lost = cluster.name_of(first.address), cluster.name_of(second.address)
    cluster.want(THIRD)
    run = subprocess.Popen(
        [sys.executable, "-m", "sealer", "apply", "-f", str(cluster.file), "--known-hosts",
         str(cluster.lab.known_hosts), "--yes", "--quiet"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    try:
        # the first batch (the first node) is cordoned: the second node's turn comes next
        wait_for(
            "the first node cordoned by the upgrade",
            lambda: (
                (
                    (nodes := cluster.nodes_while_upgrading()) is not None
                    and nodes[first_name]["spec"].get("unschedulable")
                )
                or None
            ),
            900,
        )
        _kill_sshd(cluster, second.address)
        out, err = run.communicate(timeout=1800)
    finally:
        if run.poll() is None:
            run.kill()
            run.communicate()
    assert run.returncode == 1, out + err
    assert f"node {lost} is left cordoned ({UPGRADING_ANNOTATION}={THIRD})" in out + err
    left = cluster.nodes()[lost]
    assert left["spec"].get("unschedulable") is True
    assert left["metadata"]["annotations"][UPGRADING_ANNOTATION] == THIRD
    assert left["status"]["nodeInfo"]["kubeletVersion"] == SECOND
    # sshd back: the next apply finishes the upgrade
    cluster.lab.run(second.address, SSHD_ARGV)
    resumed = cluster.sealer("apply", "--yes", "--quiet")
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    cluster.upgraded_to(THIRD)
    assert UPGRADING_ANNOTATION not in cluster.nodes()[lost]["metadata"].get("annotations", {})
