"""sealer apply / diff / clean end to end on a lab: real SSH, real files, real processes.

One lab (3 masters, 2 nodes, emulated Kubernetes package) for the module; the tests run in
order and each builds on the cluster the previous one left, as an operator would.
"""

from __future__ import annotations

import json
import signal
import subprocess
import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

import sealer_lab
from sealer.layout import STATE_DIR
from sealer_lab.kube_lab import up_kubernetes_lab
from tests.conftest import kubernetes_lab
from tests.sealer_cli import run_sealer as sealer
from tests.sealer_cli import start_sealer
from tests.waiting import wait_for

pytestmark = [pytest.mark.lab, pytest.mark.slow]

VERSION = "v1.29.3"
ADMIN = ["kubectl", "--kubeconfig", "/etc/kubernetes/admin.conf"]
#: The commands sealer's facts run: a run made only of these changed nothing.
READ_ONLY = {
    "hostname", "cat", "uname", "sh", "kubeadm", "kubelet", "kubectl", "stat", "sha256sum",
    "systemctl", "test", "modinfo", "etcdctl", "ls",
}  # fmt: skip


class Cluster:
    """The lab plus the Clusterfile the tests edit."""

    def __init__(self, lab: sealer_lab.Lab, workdir: Path) -> None:
        self.lab = lab
        self.workdir = workdir
        assert lab.clusterfile is not None
        self.file = lab.clusterfile

    def ssh_flags(self) -> list[str]:
        return ["--known-hosts", str(self.lab.known_hosts)]

    def run(
        self, verb: str, *extra: str, log: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        args = [verb, "-f", str(self.file), *self.ssh_flags(), *extra]
        if log is not None:
            args += ["--log", log]
        return sealer(*args)

    def on(self, host: str, argv: list[str], check: bool = True) -> str:
        return self.lab.run(host, argv, check=check).stdout

    def nodes(self) -> list[dict[str, Any]]:
        master0 = self.lab.masters[0].address
        items: list[dict[str, Any]] = json.loads(
            self.on(master0, [*ADMIN, "get", "nodes", "-o", "json"])
        )["items"]
        return items

    def registered_nodes(self, addresses: Iterable[str]) -> list[dict[str, Any]]:
        """The Node objects, once every host of ``addresses`` has one. A worker's `kubeadm join`
        returns when its kubelet has its certificate; the kubelet registers the Node just after
        (as the real kubelet does), so right after apply the last Node may still be missing."""
        want = set(addresses)

        def check() -> list[dict[str, Any]] | None:
            nodes = self.nodes()
            return nodes if want <= {_internal_ip(n) for n in nodes} else None

        return wait_for(
            lambda: (
                f"Node objects for {sorted(want)} (now {sorted(map(_internal_ip, self.nodes()))})"
            ),
            check,
            timeout=120,
            interval=0.5,
        )

    def edit(self, **spec: Any) -> None:
        yaml = YAML()
        data = yaml.load(self.file.read_text())
        for key, value in spec.items():
            data["spec"][key] = value
        with self.file.open("w") as handle:
            yaml.dump(data, handle)


def _internal_ip(node: dict[str, Any]) -> str:
    return str(next(a["address"] for a in node["status"]["addresses"] if a["type"] == "InternalIP"))


def _is_run_lock(record: dict[str, Any]) -> bool:
    """Taking, renewing and giving back the run lock (tests/e2e/test_lock_lab.py covers it)."""
    items = [*(record.get("argv") or []), record.get("path") or ""]
    return any(item == STATE_DIR or "run.lock" in item for item in items)


def _log_records(path: Path) -> list[dict[str, Any]]:
    """The run log's records without the run lock's; a last line still being written (no
    newline yet) is left out."""
    complete = path.read_text().split("\n")[:-1]
    records = [json.loads(line) for line in complete if line.strip()]
    return [r for r in records if not _is_run_lock(r)]


INSTALL_DIRS = (
    "/etc/kubernetes", "/var/lib/kubelet", "/var/lib/etcd", "/etc/cni", "/opt/cni",
    "/usr/local/bin", "/var/lib/sealer", "/etc/sealer", "/root/.kube",
)  # fmt: skip


def _leftovers(cluster: Cluster, address: str) -> str:
    """What is left in the directories an install writes (empty when clean)."""
    script = 'for d in "$@"; do [ -e "$d" ] && ls -A "$d" | sed "s|^|$d/|"; done; true'
    return cluster.on(address, ["sh", "-c", script, "sh", *INSTALL_DIRS]).strip()


@pytest.fixture(scope="module")
def cluster(lab_session_id: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    workdir = tmp_path_factory.mktemp("e2e")
    with kubernetes_lab(lab_session_id, "e2e", workdir, 3, 2, version=VERSION) as lab:
        yield Cluster(lab, workdir)


def test_apply_creates_a_ha_cluster(cluster: Cluster) -> None:
    result = cluster.run("apply", "--yes", "--quiet")
    assert result.returncode == 0, result.stdout + result.stderr
    nodes = cluster.registered_nodes(h.address for h in cluster.lab.hosts)
    assert len(nodes) == 5
    by_address = {_internal_ip(n): n for n in nodes}
    for host in cluster.lab.hosts:
        node = by_address[host.address]
        ready = next(c for c in node["status"]["conditions"] if c["type"] == "Ready")
        assert ready["status"] == "True", node["metadata"]["name"]
        assert node["status"]["nodeInfo"]["kubeletVersion"] == VERSION
        is_master = "node-role.kubernetes.io/control-plane" in node["metadata"]["labels"]
        assert is_master == (host.role == "master")
    table = cluster.on(cluster.lab.masters[0].address, [*ADMIN, "get", "nodes"])
    assert table.split()[:5] == ["NAME", "STATUS", "ROLES", "AGE", "VERSION"]
    members = cluster.on(
        cluster.lab.masters[0].address,
        [
            "etcdctl", "--endpoints", "https://127.0.0.1:2379",
            "--cacert", "/etc/kubernetes/pki/etcd/ca.crt",
            "--cert", "/etc/kubernetes/pki/etcd/healthcheck-client.crt",
            "--key", "/etc/kubernetes/pki/etcd/healthcheck-client.key",
            "member", "list", "-w", "json",
        ],
    )  # fmt: skip
    assert len(json.loads(members)["members"]) == 3


def test_unchanged_file_diff_is_clean_and_apply_changes_nothing(cluster: Cluster) -> None:
    diff = cluster.run("diff")
    assert diff.returncode == 0, diff.stdout + diff.stderr
    assert diff.stdout.strip() == "No changes: every host matches the Clusterfile."
    log = cluster.workdir / "noop.jsonl"
    again = cluster.run("apply", "--yes", "--quiet", log=str(log))
    assert again.returncode == 0, again.stderr
    records = _log_records(log)
    assert records, "the run log is empty"
    assert not [r for r in records if r["kind"] == "put"]
    mutating = [r["argv"] for r in records if r["kind"] == "run" and r["argv"][0] not in READ_ONLY]
    assert not mutating
    kube = [r["argv"] for r in records if r["kind"] == "run" and r["argv"][0] == "kubeadm"]
    assert all(argv[1] == "version" for argv in kube), kube


def test_adding_a_node_touches_only_that_node(cluster: Cluster) -> None:
    lab = up_kubernetes_lab(cluster.lab.name, 3, 3, version=VERSION, clusterfile=cluster.file)
    cluster.lab = lab
    new = lab.nodes[-1].address
    diff = cluster.run("diff", "--output", "json")
    assert diff.returncode == 2, diff.stderr
    steps = json.loads(diff.stdout)["steps"]
    assert {s["host"] for s in steps} == {new}
    assert [s["name"] for s in steps] == ["ipvs", "distribute", "install", "hosts", "join-node"]
    log = cluster.workdir / "add.jsonl"
    result = cluster.run("apply", "--yes", "--quiet", log=str(log))
    assert result.returncode == 0, result.stderr
    records = _log_records(log)
    writes = {r["host"] for r in records if r["kind"] == "put"}
    assert writes == {new}
    others = [
        r["argv"]
        for r in records
        if r["kind"] == "run" and r["host"] != new and r["argv"][0] not in READ_ONLY
    ]
    assert not others, others
    # the only commands that change state elsewhere are the join credentials on master0
    creds = [
        r["argv"][:3]
        for r in records
        if r["kind"] == "run" and r["host"] != new and r["argv"][0] == "kubeadm"
        and r["argv"][1] != "version"
    ]  # fmt: skip
    assert creds == [["kubeadm", "token", "create"]]
    assert len(cluster.registered_nodes([new])) == 6


def test_removing_a_node_drains_deletes_and_cleans_it(cluster: Cluster) -> None:
    gone = cluster.lab.nodes[-1]
    cluster.edit(nodes=[h.address for h in cluster.lab.nodes[:-1]])
    result = cluster.run("apply", "--yes", "--quiet")
    assert result.returncode == 0, result.stdout + result.stderr
    assert gone.address not in json.dumps(cluster.nodes())
    assert _leftovers(cluster, gone.address) == ""
    assert "sealer managed block" not in cluster.on(gone.address, ["cat", "/etc/hosts"])
    procs = cluster.on(gone.address, ["ps", "-eo", "comm="])
    assert "kubelet" not in procs and "sealer-care" not in procs


def test_a_host_lost_mid_apply_fails_its_branch_only_and_apply_converges(cluster: Cluster) -> None:
    back = cluster.lab.nodes[-1]
    cluster.edit(nodes=[h.address for h in cluster.lab.nodes])
    log = cluster.workdir / "lost.jsonl"
    killer_done = threading.Event()

    def kill_sshd_when_upload_starts() -> None:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            if log.exists() and any(
                r["host"] == back.address and r["kind"] in ("put", "run")
                and r.get("argv", [""])[0] in ("mkdir",)
                for r in _log_records(log)
            ):  # fmt: skip
                cluster.lab.run(back.address, ["pkill", "-x", "sshd"], check=False)
                break
            time.sleep(0.05)
        killer_done.set()

    killer = threading.Thread(target=kill_sshd_when_upload_starts)
    killer.start()
    result = cluster.run("apply", "--yes", "--quiet", log=str(log))
    killer.join()
    assert result.returncode == 1, result.stdout + result.stderr
    assert "failed: " in result.stderr and back.address in result.stderr
    # the rest completed: the other hosts are still in shape, nothing else failed
    failed = [line for line in result.stderr.splitlines() if line.startswith("failed:")]
    assert all(back.address in line for line in failed), failed
    sealer_lab.reboot(cluster.lab.name, back.name)  # sshd comes back
    result = cluster.run("apply", "--yes", "--quiet")
    assert result.returncode == 0, result.stdout + result.stderr
    cluster.registered_nodes([back.address])  # before diff: without its Node, it plans a join
    assert cluster.run("diff").returncode == 0


def test_clean_gives_every_host_back(cluster: Cluster) -> None:
    # what an upload cut short (a lost connection, Ctrl-C) leaves next to its target
    node = cluster.lab.nodes[0].address
    cluster.on(node, ["touch", "/usr/local/bin/.sealer-care.sealer-0dead", "/etc/.hosts.sealer-1"])
    result = cluster.run("clean", "--yes", "--quiet")
    assert result.returncode == 0, result.stdout + result.stderr
    for host in cluster.lab.hosts:
        assert _leftovers(cluster, host.address) == "", host.name
        assert "sealer managed block" not in cluster.on(host.address, ["cat", "/etc/hosts"])
        assert ".hosts.sealer-" not in cluster.on(host.address, ["ls", "-A", "/etc"])
        procs = set(cluster.on(host.address, ["ps", "-eo", "comm="]).split())
        assert procs <= {"tini", "sleep", "sshd", "sh", "ps"}, procs
        rules = cluster.on(host.address, ["nft", "list", "ruleset"])
        assert "sealer" not in rules
    # Cleaned again, every host now finds this machine's own kubectl on its PATH (/usr/bin is
    # shared in the lab, as a distribution's kubectl is on a real host): it is not sealer's.
    kubectl = Path("/usr/bin/kubectl")
    had = kubectl.exists()
    again = cluster.run("clean", "--yes", "--quiet")
    assert again.returncode == 0, again.stdout + again.stderr
    assert kubectl.exists() == had


def test_ctrl_c_stops_cleanly_and_the_next_apply_converges(cluster: Cluster) -> None:
    """After clean: an apply interrupted while it copies packages exits 130 with a summary of
    what ran and what was cancelled; the next apply finishes the job."""
    log = cluster.workdir / "interrupted.jsonl"
    args = ["apply", "-f", str(cluster.file), *cluster.ssh_flags(), "--yes", "--log", str(log)]
    process = start_sealer(*args)
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and process.poll() is None:
            if log.exists() and any(r["kind"] == "put" for r in _log_records(log)):
                break
            time.sleep(0.05)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, out + err
    assert "interrupted" in err
    assert "cancelled" in err or "skipped" in err, err
    assert "Traceback" not in err
    result = cluster.run("apply", "--yes", "--quiet")
    assert result.returncode == 0, result.stdout + result.stderr
    nodes = cluster.registered_nodes(h.address for h in cluster.lab.hosts)
    assert len(nodes) == len(cluster.lab.hosts)
    assert cluster.run("diff").returncode == 0


def _apply_named(cluster: Cluster, file: str, masters: list[str], nodes: list[str]) -> None:
    """From clean hosts: write ``file`` (the lab's Clusterfile with these masters and nodes),
    apply it; every host of it gets a Ready Node whose InternalIP is the host's lab address,
    and diff then shows no change."""
    cleaned = cluster.run("clean", "--yes", "--quiet")
    assert cleaned.returncode == 0, cleaned.stdout + cleaned.stderr
    assert cluster.lab.clusterfile is not None
    yaml = YAML()
    data = yaml.load(cluster.lab.clusterfile.read_text())
    data["spec"]["masters"] = masters
    data["spec"]["nodes"] = nodes
    cluster.file = cluster.workdir / file
    with cluster.file.open("w") as handle:
        yaml.dump(data, handle)
    result = cluster.run("apply", "--yes", "--quiet")
    assert result.returncode == 0, result.stdout + result.stderr
    by_name = {h.name: h.address for h in cluster.lab.hosts}
    addresses = [by_name.get(entry, entry) for entry in [*masters, *nodes]]
    nodes_now = cluster.registered_nodes(addresses)
    assert sorted(_internal_ip(n) for n in nodes_now) == sorted(addresses)
    for node in nodes_now:
        ready = next(c for c in node["status"]["conditions"] if c["type"] == "Ready")
        assert ready["status"] == "True", node["metadata"]["name"]
    diff = cluster.run("diff")
    assert diff.returncode == 0, diff.stdout + diff.stderr
    assert diff.stdout.strip() == "No changes: every host matches the Clusterfile."


def test_nodes_named_by_dns_names_apply(cluster: Cluster) -> None:
    """Hosts named by DNS names, which the lab's /etc/hosts block resolves on the workstation
    and on every host (docs/lab.md). With nodes, masters must be IPv4 addresses (the node-local
    load balancer's rules need them: docs/clusterfile.md), so here the nodes are the names."""
    masters = [h.address for h in cluster.lab.masters]
    _apply_named(cluster, "named-nodes.yaml", masters, [h.name for h in cluster.lab.nodes])


def test_masters_named_by_dns_names_apply(cluster: Cluster) -> None:
    """Every host named by its DNS name: a control plane of three masters (without nodes, the
    only case where the product takes DNS-named masters)."""
    _apply_named(cluster, "named-masters.yaml", [h.name for h in cluster.lab.masters], [])
