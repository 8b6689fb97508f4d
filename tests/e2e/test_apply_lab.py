"""sealer apply / diff / clean end to end on a lab: real SSH, real files, real processes.

One lab (3 masters, 2 nodes, emulated Kubernetes package) for the module; the tests run in
order and each builds on the cluster the previous one left, as an operator would.
"""

from __future__ import annotations

import json
import signal
import subprocess
import tarfile
import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

import sealer_lab
from sealer.layout import KUBEADM_TOKEN_CONFIG_PATH, SEALER_KUBE_DIR, STATE_DIR
from sealer_lab.kube_lab import up_kubernetes_lab
from sealer_lab.package import build_package
from tests.conftest import kubernetes_lab
from tests.sealer_cli import run_sealer as sealer
from tests.sealer_cli import start_sealer
from tests.secret_watch import (
    SecretWatch,
    cluster_secrets,
    files_under,
    found_in,
    kubeadm_lines,
    token_secrets,
)
from tests.waiting import wait_for

pytestmark = [pytest.mark.lab, pytest.mark.slow]

VERSION = "v1.29.3"
ADMIN = ["kubectl", "--kubeconfig", "/etc/kubernetes/admin.conf"]
#: The commands sealer's facts run: a run made only of these changed nothing.
READ_ONLY = {
    "hostname", "cat", "uname", "sh", "kubeadm", "kubelet", "kubectl", "stat", "sha256sum",
    "systemctl", "test", "modinfo", "etcdctl", "ls", "crictl",
}  # fmt: skip


class Cluster:
    """The lab plus the Clusterfile the tests edit."""

    def __init__(self, lab: sealer_lab.Lab, workdir: Path) -> None:
        self.lab = lab
        self.workdir = workdir
        assert lab.clusterfile is not None
        self.file = lab.clusterfile
        #: The first apply's result and what was watched while it ran.
        self.first_run: tuple[subprocess.CompletedProcess[str], SecretWatch] | None = None

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

    def ready_nodes(self, addresses: Iterable[str]) -> list[dict[str, Any]]:
        """The Node objects once every host of ``addresses`` has one that is Ready: a node is
        Ready when its network add-on's agent ran (after apply's cni step, on its own time)."""
        want = set(addresses)

        def check() -> list[dict[str, Any]] | None:
            nodes = self.nodes()
            ready = {_internal_ip(n) for n in nodes if _ready(n)["status"] == "True"}
            return nodes if want <= ready else None

        return wait_for(
            lambda: f"Ready Nodes for {sorted(want)} (now {sorted(_states(self.nodes()))})",
            check,
            timeout=180,
            interval=0.5,
        )

    def set_cni(self, cni: str | None) -> None:
        """spec.network.cni in the file (None: the field left out, so the default)."""
        yaml = YAML()
        data = yaml.load(self.file.read_text())
        network = data["spec"].setdefault("network", {})
        if cni is None:
            network.pop("cni", None)
        else:
            network["cni"] = cni
        with self.file.open("w") as handle:
            yaml.dump(data, handle)

    def edit(self, **spec: Any) -> None:
        yaml = YAML()
        data = yaml.load(self.file.read_text())
        for key, value in spec.items():
            data["spec"][key] = value
        with self.file.open("w") as handle:
            yaml.dump(data, handle)


def _internal_ip(node: dict[str, Any]) -> str:
    return str(next(a["address"] for a in node["status"]["addresses"] if a["type"] == "InternalIP"))


def _ready(node: dict[str, Any]) -> dict[str, Any]:
    return dict(next(c for c in node["status"]["conditions"] if c["type"] == "Ready"))


def _states(nodes: Iterable[dict[str, Any]]) -> list[str]:
    return [f"{_internal_ip(n)}={_ready(n)['status']}" for n in nodes]


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
    "/usr/local/bin", "/var/lib/sealer", "/etc/sealer", "/root/.kube", "/etc/containerd",
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


def test_a_package_without_an_image_is_refused_before_any_host_changes(cluster: Cluster) -> None:
    """`sealer lab package --without-image coredns` builds a package that lacks CoreDNS: apply
    names the image and stops before it touches a host (air-gapped hosts could not pull it)."""
    broken = cluster.workdir / "broken.tar.gz"
    built = sealer(
        "lab", "package", "--version", VERSION, "--without-image", "coredns", "-o", str(broken)
    )
    assert built.returncode == 0, built.stdout + built.stderr
    good = cluster.file
    cluster.file = cluster.workdir / "broken.yaml"
    cluster.file.write_text(good.read_text())
    try:
        cluster.edit(package=str(broken))
        result = cluster.run("apply", "--yes", "--quiet")
    finally:
        cluster.file = good
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stderr.startswith(
        f"error: package {broken} lacks 1 image(s) the cluster needs: "
        "registry.k8s.io/coredns/coredns:v1.11.1 (needed by kubeadm v1.29.3). "
        "Nothing was changed on any host"
    ), result.stderr
    assert "Traceback" not in result.stderr
    for host in cluster.lab.hosts:
        assert _leftovers(cluster, host.address) == "", host.name


def test_apply_with_cni_none_leaves_every_node_not_ready_and_says_so(cluster: Cluster) -> None:
    """The cluster is made here, watched: test_the_apply_wrote_no_secret_anywhere... checks
    this run's output, logs and every command line of the machine for its secrets."""
    cluster.set_cni("none")
    log = cluster.workdir / "runs" / "create.jsonl"
    master0 = cluster.lab.masters[0].address
    with SecretWatch(cluster.lab, master0) as watch:
        result = cluster.run("apply", "--yes", "--output", "json", log=str(log))
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout)["succeeded"] is True
    cluster.first_run = (result, watch)
    assert (
        "warning: spec.network.cni is none: sealer installed no network add-on, so every node "
        "stays NotReady (NetworkPluginNotReady) until you install one"
    ) in " ".join(result.stderr.split())
    nodes = cluster.registered_nodes(h.address for h in cluster.lab.hosts)
    assert len(nodes) == 5
    by_address = {_internal_ip(n): n for n in nodes}
    for host in cluster.lab.hosts:
        node = by_address[host.address]
        ready = _ready(node)
        assert (ready["status"], ready["reason"]) == ("False", "KubeletNotReady"), ready
        assert ready["message"].startswith(
            "container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady"
        )
        taints = [(t["key"], t["effect"]) for t in node["spec"].get("taints", [])]
        assert ("node.kubernetes.io/not-ready", "NoSchedule") in taints
        assert node["status"]["nodeInfo"]["kubeletVersion"] == VERSION
        is_master = "node-role.kubernetes.io/control-plane" in node["metadata"]["labels"]
        assert is_master == (host.role == "master")
    table = cluster.on(cluster.lab.masters[0].address, [*ADMIN, "get", "nodes"])
    assert table.split()[:5] == ["NAME", "STATUS", "ROLES", "AGE", "VERSION"]
    assert "NotReady" in table
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
    diff = cluster.run("diff")
    assert diff.returncode == 0, diff.stdout + diff.stderr


def test_the_default_calico_makes_each_node_ready_after_its_pod_ran(cluster: Cluster) -> None:
    """Without spec.network.cni (the default, calico) the plan is the cni step alone; then
    the DaemonSet runs a calico-node pod on every node, whose agent writes the CNI
    configuration with the pod CIDR, and each node turns Ready after its pod started."""
    cluster.set_cni(None)
    master0 = cluster.lab.masters[0].address
    diff = cluster.run("diff", "--output", "json")
    assert diff.returncode == 2, diff.stdout + diff.stderr
    steps = json.loads(diff.stdout)["steps"]
    assert [(s["name"], s["host"]) for s in steps] == [("cni", master0)]
    assert "network add-on calico not applied yet" in steps[0]["why"]
    result = cluster.run("apply", "--yes", "--quiet")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "spec.network.cni" not in result.stderr
    nodes = cluster.ready_nodes(h.address for h in cluster.lab.hosts)

    def running_pods() -> list[dict[str, Any]] | None:
        pods: list[dict[str, Any]] = json.loads(
            cluster.on(
                master0,
                [*ADMIN, "get", "pods", "-n", "kube-system", "-l", "k8s-app=calico-node",
                 "-o", "json"],
            )
        )["items"]  # fmt: skip
        phases = [p.get("status", {}).get("phase") for p in pods]
        return pods if len(pods) == 5 and phases == ["Running"] * 5 else None

    # each kubelet posts its pod's status on its own time, apart from its Node's
    pods = wait_for("5 calico-node pods Running", running_pods, timeout=120, interval=0.5)
    by_node = {p["spec"]["nodeName"]: p for p in pods}
    assert len(by_node) == 5
    for node in nodes:
        name = node["metadata"]["name"]
        pod = by_node[name]
        started = pod["status"]["startTime"]
        assert started <= _ready(node)["lastTransitionTime"], (name, started, _ready(node))
        assert "node.kubernetes.io/not-ready" not in json.dumps(node["spec"])
        conf = json.loads(
            cluster.on(_internal_ip(node), ["cat", "/etc/cni/net.d/10-calico.conflist"])
        )
        assert conf["plugins"][0]["ipam"]["ranges"] == [[{"subnet": "100.64.0.0/10"}]]
    record = json.loads(
        cluster.on(master0, [*ADMIN, "get", "configmap", "-n", "kube-system", "sealer-cni",
                             "-o", "json"])
    )["data"]  # fmt: skip
    assert (record["type"], record["manifest"]) == ("calico", "manifests/calico.yaml")
    assert len(record["sha256"]) == 64


def test_the_apply_wrote_no_secret_anywhere_and_left_no_join_credentials(
    cluster: Cluster,
) -> None:
    """The run's bootstrap token and the cluster's keys appear in no run log, no message, no
    JSON output and on no command line (the join secrets travel in 0600 files); the token and
    any kubeadm-certs Secret are gone once the run is done."""
    assert cluster.first_run is not None, "the first apply (cni none) did not run"
    result, watch = cluster.first_run
    master0 = cluster.lab.masters[0].address
    assert watch.tokens, "no bootstrap token was seen while the cluster was made"
    needles = {**watch.needles(), **cluster_secrets(cluster.lab, master0)}
    texts = {
        "stdout (--output json)": result.stdout,
        "stderr": result.stderr,
        **files_under(cluster.workdir / "runs"),
        **{f"command line {line!r}": line for line in kubeadm_lines(watch.cmdlines)},
    }
    assert found_in(needles, texts) == []
    assert found_in(needles, {"any command line": "\n".join(watch.cmdlines)}) == []
    seen = kubeadm_lines(watch.cmdlines)
    assert any("kubeadm join --config" in line for line in seen), seen
    assert any("kubeadm init --skip-token-print --skip-certificate-key-print" in line
               for line in seen), seen  # fmt: skip
    assert token_secrets(cluster.lab, master0) == []
    secrets = cluster.on(master0, [*ADMIN, "-n", "kube-system", "get", "secrets", "-o", "name"])
    assert "secret/kubeadm-certs" not in secrets.split()


#: What installing the package leaves on a host: the unpacked package, the programs init.sh
#: installs, the kubelet unit and the container runtime's unit and configuration.
INSTALLED = (
    "/var/lib/sealer/package", "/usr/local/bin/kubeadm", "/usr/local/bin/kubelet",
    "/usr/local/bin/kubectl", "/usr/local/bin/containerd", "/usr/local/bin/crictl",
    "/etc/systemd/system/kubelet.service", "/etc/systemd/system/kubelet.service.d",
    "/etc/systemd/system/containerd.service", "/etc/containerd/config.toml", "/etc/crictl.yaml",
)  # fmt: skip


def test_a_package_of_uid_1000_with_mode_0777_installs_root_owned_unwritable_files(
    cluster: Cluster,
) -> None:
    with tarfile.open(cluster.lab.dir / f"kube{VERSION[1:]}.tar.gz") as tar:
        members = tar.getmembers()
    assert {m.uid for m in members} == {1000} and 0o777 in {m.mode for m in members}
    for host in (cluster.lab.masters[0].address, cluster.lab.nodes[0].address):
        listed = cluster.on(host, ["find", *INSTALLED, "-printf", "%u:%g %m %p\n"]).splitlines()
        assert any(line.endswith("/kube/shell/init.sh") for line in listed), listed
        wrong = [
            line for line in listed
            if not line.startswith("root:root ") or int(line.split()[1], 8) & 0o022
        ]  # fmt: skip
        assert wrong == [], (host, wrong)


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
    applied = [r["argv"] for r in records if r["kind"] == "run" and "apply" in r["argv"]]
    assert not applied, applied  # no cni step: the recorded manifest is the package's


def _status(cluster: Cluster) -> tuple[int, dict[str, Any]]:
    done = cluster.run("status", "--output", "json")
    assert done.returncode in (0, 2, 3), done.stdout + done.stderr
    report: dict[str, Any] = json.loads(done.stdout)
    assert report["exit_code"] == done.returncode
    return done.returncode, report


def test_status_of_the_healthy_cluster_then_of_one_with_a_master_api_server_down(
    cluster: Cluster,
) -> None:
    masters = [h.address for h in cluster.lab.masters]
    nodes = [h.address for h in cluster.lab.nodes]
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    code, report = _status(cluster)
    assert code == 0, report["problems"]
    assert [h["address"] for h in report["hosts"]] == masters + nodes
    for host in report["hosts"]:
        assert host["reachable"] and host["kubelet_active"] and host["node_ready"], host
        assert host["versions"] == {"kubeadm": VERSION, "kubelet": VERSION, "package": VERSION}
        # the kubelet's client certificate (from a CSR: a year, rotated) expires first
        assert host["earliest_certificate"]["not_after"] > now, host
    for node in nodes:
        lb = next(h for h in report["hosts"] if h["address"] == node)["load_balancer"]
        assert lb["backends"] == [{"master": m, "healthy": True} for m in masters]
    plane = report["control_plane"]
    assert plane["api"] == {m: {"ready": True, "detail": None} for m in masters}
    etcd = plane["etcd"]
    assert sorted(m["endpoint"] for m in etcd["members"]) == sorted(
        f"https://{m}:2379" for m in masters
    )
    assert all(m["healthy"] for m in etcd["members"])
    assert etcd["leader"] in {m["endpoint"] for m in etcd["members"]}
    assert plane["lock"] == [] and report["pending"] == {"steps": 0, "error": None}

    victim = masters[1]
    manifest = "/etc/kubernetes/manifests/kube-apiserver.yaml"
    parked = "/etc/kubernetes/kube-apiserver.yaml.parked"
    cluster.on(victim, ["mv", manifest, parked])
    try:
        down = wait_for(
            f"sealer status to see {victim}'s API server down",
            lambda: (
                (r := _status(cluster))[1]["control_plane"]["api"][victim]["ready"] is False and r
            ),
            timeout=120,
            interval=0.5,
        )
        assert down[0] == 3
        said = [p for p in down[1]["problems"] if p.startswith(f"{victim}: its API server")]
        assert said, down[1]["problems"]
        others = [m for m in masters if m != victim]
        assert all(down[1]["control_plane"]["api"][m]["ready"] for m in others)
    finally:
        cluster.on(victim, ["mv", parked, manifest])
    wait_for(
        lambda: f"sealer status healthy again (problems: {_status(cluster)[1]['problems']})",
        lambda: _status(cluster)[0] == 0,
        timeout=300,
        interval=0.5,
    )


def test_adding_a_node_touches_only_that_node(cluster: Cluster) -> None:
    lab = up_kubernetes_lab(cluster.lab.name, 3, 3, version=VERSION, clusterfile=cluster.file)
    cluster.lab = lab
    new, master0 = lab.nodes[-1].address, lab.masters[0].address
    diff = cluster.run("diff", "--output", "json")
    assert diff.returncode == 2, diff.stderr
    steps = json.loads(diff.stdout)["steps"]
    assert {s["host"] for s in steps} == {new}
    assert [s["name"] for s in steps] == ["ipvs", "distribute", "install", "hosts", "join-node"]
    log = cluster.workdir / "add.jsonl"
    result = cluster.run("apply", "--yes", "--quiet", log=str(log))
    assert result.returncode == 0, result.stderr
    records = _log_records(log)
    # elsewhere, only the join credentials change, on the API master: the 0600 token file
    # written, read by `kubeadm token create` and removed, and the token deleted at the end
    token_file = (KUBEADM_TOKEN_CONFIG_PATH,)
    writes = {(r["host"], r["path"]) for r in records if r["kind"] == "put"}
    assert {host for host, _ in writes if host != new} <= {master0}
    assert {path for host, path in writes if host != new} == set(token_file)
    others = [
        r["argv"]
        for r in records
        if r["kind"] == "run" and r["host"] != new and r["argv"][0] not in READ_ONLY
    ]
    assert others == [["mkdir", "-p", SEALER_KUBE_DIR], ["rm", "-f", "--", *token_file]], others
    creds = [
        r["argv"][:4]
        for r in records
        if r["kind"] == "run" and r["host"] != new and r["argv"][0] == "kubeadm"
        and r["argv"][1] != "version"
    ]  # fmt: skip
    assert creds == [
        ["kubeadm", "token", "create", "--config"],
        ["kubeadm", "token", "delete", "--"],
    ]
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


def test_a_new_package_with_another_add_on_manifest_reapplies_the_cni_step(
    cluster: Cluster,
) -> None:
    """A package whose calico manifest differs (here by a comment): besides copying the new
    package, the plan re-applies the add-on, and diff says why; nodes stay Ready."""
    master0 = cluster.lab.masters[0].address
    newer = build_package(
        VERSION, cluster.workdir / "rebuilt" / "kube1.29.3.tar.gz", manifest_suffix="# 2\n"
    )
    cluster.edit(package=str(newer))
    diff = cluster.run("diff", "--output", "json")
    assert diff.returncode == 2, diff.stdout + diff.stderr
    steps = json.loads(diff.stdout)["steps"]
    names = sorted({s["name"] for s in steps})
    assert names == ["cni", "distribute", "install"], steps
    cni = next(s for s in steps if s["name"] == "cni")
    assert cni["host"] == master0
    assert "network add-on calico: the package's manifest changed" in cni["why"]
    assert cni["after"] == [f"install@{master0}"]  # kubectl is the new package's
    log = cluster.workdir / "new-manifest.jsonl"
    result = cluster.run("apply", "--yes", "--quiet", log=str(log))
    assert result.returncode == 0, result.stdout + result.stderr
    applied = [r["argv"] for r in _log_records(log) if r["kind"] == "run" and "apply" in r["argv"]]
    assert applied == [
        [*ADMIN, "apply", "-f", "/etc/kubernetes/sealer/cni.yaml"],
        [*ADMIN, "apply", "-f", "/etc/kubernetes/sealer/cni-record.yaml"],
    ]
    assert cluster.run("diff").returncode == 0
    cluster.ready_nodes(
        h.address for h in cluster.lab.hosts if h.address in cluster.file.read_text()
    )


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
    nodes_now = cluster.ready_nodes(addresses)
    assert sorted(_internal_ip(n) for n in nodes_now) == sorted(addresses)
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
