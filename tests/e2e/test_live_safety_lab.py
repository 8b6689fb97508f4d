"""A living cluster is never destroyed: power cuts, a dead master0, hosts of other clusters.

One lab (3 masters, 1 node; more nodes are added as the scenarios need them) for the module;
the tests run in order on the cluster the previous one left, as an operator's day would.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from ruamel.yaml import YAML

from sealer.layout import KUBEADM_TOKEN_CONFIG_PATH
from sealer_lab.kube_lab import up_kubernetes_lab
from tests import waiting
from tests.conftest import kubernetes_lab
from tests.e2e.test_apply_lab import ADMIN, READ_ONLY, Cluster, _log_records
from tests.sealer_cli import run_sealer as sealer

pytestmark = [pytest.mark.lab, pytest.mark.slow]

VERSION = "v1.29.3"
IDENTITY_FILE = "/var/lib/sealer/cluster.json"
#: How long a restarted control plane may take to serve again on a loaded machine.
RECOVERY = 300.0

T = TypeVar("T")


def wait_for(what: str, probe: Callable[[], T | None], deadline: float = RECOVERY) -> T:
    """The suite's deadline helper, polling once a second (each probe runs sealer or SSH)."""
    return waiting.wait_for(what, probe, timeout=deadline, interval=1.0)


@pytest.fixture(scope="module")
def cluster(lab_session_id: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    workdir = tmp_path_factory.mktemp("safety")
    with kubernetes_lab(lab_session_id, "safe", workdir, 3, 1, version=VERSION) as lab:
        yield Cluster(lab, workdir)


def _node_uids(cluster: Cluster, via: str | None = None) -> dict[str, str]:
    master = via or cluster.lab.masters[0].address
    items = json.loads(cluster.on(master, [*ADMIN, "get", "nodes", "-o", "json"]))["items"]
    return {n["metadata"]["name"]: n["metadata"]["uid"] for n in items}


def _power_off(cluster: Cluster, address: str) -> None:
    """What a power cut leaves: the host answers SSH, its control plane is gone."""
    cluster.on(address, ["systemctl", "stop", "kubelet"])
    cluster.on(address, ["pkill", "-f", "sealer_lab.emulate.apiserver"], check=False)
    cluster.on(address, ["pkill", "-x", "etcd"], check=False)
    wait_for(
        f"the control plane of {address} to stop",
        lambda: True if not cluster.on(address, ["pgrep", "-x", "etcd"], check=False) else None,
        60,
    )


def _power_on(cluster: Cluster, address: str) -> None:
    cluster.on(address, ["systemctl", "start", "kubelet"])


def _diff_is_clean(cluster: Cluster) -> bool | None:
    return True if cluster.run("diff").returncode == 0 else None


def _changes_in(log: Path) -> list[Any]:
    """The commands and uploads of a run that are not sealer's read-only facts."""
    records = _log_records(log) if log.exists() else []
    return [
        r.get("argv") or r.get("path")
        for r in records
        if r["kind"] == "put" or (r["kind"] == "run" and r["argv"][0] not in READ_ONLY)
    ]


def test_apply_records_the_clusters_identity_everywhere(cluster: Cluster) -> None:
    result = cluster.run("apply", "--yes", "--quiet")
    assert result.returncode == 0, result.stdout + result.stderr
    recorded = {
        host.address: json.loads(cluster.on(host.address, ["cat", IDENTITY_FILE]))
        for host in cluster.lab.hosts
    }
    uids = {r["uid"] for r in recorded.values()}
    assert len(uids) == 1, recorded
    assert {r["name"] for r in recorded.values()} == {cluster.lab.name}
    configmap = json.loads(
        cluster.on(
            cluster.lab.masters[0].address,
            [*ADMIN, "-n", "kube-system", "get", "configmap", "sealer-cluster", "-o", "json"],
        )
    )
    assert configmap["data"]["uid"] in uids
    assert "init.json" not in cluster.on(cluster.lab.masters[0].address, ["ls", "/var/lib/sealer"])


def test_a_power_cut_stops_diff_and_apply_and_the_same_cluster_comes_back(
    cluster: Cluster,
) -> None:
    before = _node_uids(cluster)
    masters = [m.address for m in cluster.lab.masters]
    for master in masters:
        _power_off(cluster, master)

    diff = cluster.run("diff")
    assert diff.returncode == 1, diff.stdout + diff.stderr
    assert "a cluster exists" in diff.stderr and "changes nothing" in diff.stderr
    for master in masters:
        assert master in diff.stderr
    assert "Traceback" not in diff.stderr and "Task exception" not in diff.stderr

    log = cluster.workdir / "power-cut.jsonl"
    apply = cluster.run("apply", "--yes", "--quiet", log=str(log))
    assert apply.returncode == 1, apply.stdout + apply.stderr
    assert "a cluster exists" in apply.stderr
    assert "Traceback" not in apply.stderr and "Task exception" not in apply.stderr
    assert _changes_in(log) == []
    for master in masters:  # etcd's data is where it was
        assert cluster.on(master, ["ls", "/var/lib/etcd/member"]).split() == ["snap", "wal"]

    for master in masters:
        _power_on(cluster, master)
    wait_for("diff to be clean after the control plane came back", lambda: _diff_is_clean(cluster))
    assert _node_uids(cluster) == before


def test_with_master0_down_a_node_joins_through_the_others_and_nothing_is_reset(
    cluster: Cluster,
) -> None:
    lab = up_kubernetes_lab(cluster.lab.name, 3, 2, version=VERSION, clusterfile=cluster.file)
    cluster.lab = lab
    new = lab.nodes[-1].address
    master0 = lab.masters[0].address
    others = lab.masters[1].address
    before = _node_uids(cluster)
    _power_off(cluster, master0)

    log = cluster.workdir / "master0-down.jsonl"
    result = cluster.run("apply", "--yes", "--quiet", log=str(log))
    assert result.returncode == 0, result.stdout + result.stderr
    records = _log_records(log)
    resets = [r for r in records if r["kind"] == "run" and r["argv"][:2] == ["kubeadm", "reset"]]
    assert resets == []
    touched = {(r["host"], r["path"]) for r in records if r["kind"] == "put"}
    assert {host for host, path in touched if path != KUBEADM_TOKEN_CONFIG_PATH} == {new}
    # the join token was made on a master that serves the cluster, not on master0 (down)
    token_files = {host for host, path in touched if path == KUBEADM_TOKEN_CONFIG_PATH}
    assert token_files and master0 not in token_files, touched
    after = _node_uids(cluster, via=others)
    assert {k: after[k] for k in before} == before
    assert len(after) == len(before) + 1

    _power_on(cluster, master0)
    wait_for("diff to be clean once master0 is back", lambda: _diff_is_clean(cluster))


def test_a_host_of_another_cluster_is_refused(cluster: Cluster) -> None:
    lab = up_kubernetes_lab(cluster.lab.name, 3, 3, version=VERSION, clusterfile=cluster.file)
    cluster.lab = lab
    stranger = lab.nodes[-1].address
    foreign = {"name": "payments", "uid": "0b7c4c38-3e7a-4f55-9d8e-5b0e5b1f9a11", "created": ""}
    cluster.on(stranger, ["mkdir", "-p", "/var/lib/sealer"])
    cluster.on(
        stranger,
        ["python3", "-c", f"open({IDENTITY_FILE!r}, 'w').write({json.dumps(foreign)!r})"],
    )
    diff = cluster.run("diff")
    assert diff.returncode == 1, diff.stdout + diff.stderr
    assert f"{stranger} belongs to another cluster, 'payments'" in diff.stderr
    apply = cluster.run("apply", "--yes", "--quiet")
    assert apply.returncode == 1
    assert "belongs to another cluster" in apply.stderr
    # the host was not touched
    assert cluster.on(stranger, ["ls", "/var/lib/sealer"]).split() == ["cluster.json"]

    cluster.edit(nodes=[h.address for h in lab.nodes[:-1]])
    assert cluster.run("diff").returncode == 0


ETCDCTL = [
    "etcdctl", "--endpoints", "https://127.0.0.1:2379",
    "--cacert", "/etc/kubernetes/pki/etcd/ca.crt",
    "--cert", "/etc/kubernetes/pki/etcd/healthcheck-client.crt",
    "--key", "/etc/kubernetes/pki/etcd/healthcheck-client.key",
]  # fmt: skip


def _members(cluster: Cluster, via: str) -> list[str]:
    listed = json.loads(cluster.on(via, [*ETCDCTL, "member", "list", "-w", "json"]))
    return sorted(m.get("name", "") for m in listed["members"])


def _snapshots(cluster: Cluster) -> list[Path]:
    home = cluster.workdir / "state"
    found = sorted((home / "sealer" / "snapshots" / cluster.lab.name).glob("etcd-*.db"))
    return found


def _apply_with_state(cluster: Cluster, log: Path) -> Any:
    """apply with sealer's state directory in the test's workdir (snapshots land there)."""
    env = {"XDG_STATE_HOME": str(cluster.workdir / "state")}
    args = ["apply", "-f", str(cluster.file), *cluster.ssh_flags(), "--yes", "--log", str(log)]
    return sealer(*args, env=env)


def _check_snapshot_taken(cluster: Cluster, before: int, via: str) -> None:
    snapshots = _snapshots(cluster)
    assert len(snapshots) == before + 1, snapshots
    newest = snapshots[-1]
    digest = hashlib.sha256(newest.read_bytes()).hexdigest()
    assert (newest.parent / f"{newest.name}.sha256").read_text().split()[0] == digest
    assert oct(newest.stat().st_mode & 0o777) == oct(0o600)
    # the copy is a valid snapshot: etcdctl reads it (on the workstation, no cluster needed)
    status = subprocess.run(
        ["etcdctl", "snapshot", "status", "-w", "json", str(newest)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(status.stdout)["totalKey"] > 0
    kept = cluster.on(via, ["ls", "/var/lib/sealer/snapshots"]).split()
    assert newest.name in kept


def test_an_unreachable_master_leaving_the_file_is_removed_from_etcd(cluster: Cluster) -> None:
    masters = [m.address for m in cluster.lab.masters]
    gone = cluster.lab.masters[2]
    before = _node_uids(cluster)
    cluster.lab.run(gone.address, ["ip", "link", "set", "eth0", "down"])
    cluster.edit(masters=masters[:2])
    log = cluster.workdir / "master-3-lost.jsonl"
    result = _apply_with_state(cluster, log)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "run `sealer clean` on it when it is back" in result.stdout + result.stderr
    assert "snapshot: etcd snapshot" in result.stderr
    _check_snapshot_taken(cluster, 0, masters[0])
    assert gone.name not in _members(cluster, masters[0])
    assert len(_members(cluster, masters[0])) == 2
    after = _node_uids(cluster)
    assert gone.name not in after
    assert after == {k: v for k, v in before.items() if k != gone.name}
    cluster.lab.run(gone.address, ["ip", "link", "set", "eth0", "up"])


def test_removing_master0_keeps_the_cluster_and_its_nodes(cluster: Cluster) -> None:
    masters = [m.address for m in cluster.lab.masters]
    m0, m1 = masters[0], masters[1]
    before = _node_uids(cluster)
    cluster.edit(masters=[m1])
    log = cluster.workdir / "master0-removed.jsonl"
    result = _apply_with_state(cluster, log)
    assert result.returncode == 0, result.stdout + result.stderr
    _check_snapshot_taken(cluster, 1, m1)
    assert _members(cluster, m1) == [cluster.lab.masters[1].name]
    after = _node_uids(cluster, via=m1)
    assert after == {k: v for k, v in before.items() if k != cluster.lab.masters[0].name}

    def all_ready() -> bool:
        items = json.loads(cluster.on(m1, [*ADMIN, "get", "nodes", "-o", "json"]))["items"]
        return all(
            c["status"] == "True"
            for item in items
            for c in item["status"]["conditions"]
            if c["type"] == "Ready"
        )

    wait_for("every node Ready (each runs its network add-on pod)", all_ready)
    for node in _file_nodes(cluster):
        config = json.loads(cluster.on(node, ["cat", "/etc/sealer/care.json"]))
        assert config["masters"] == [m1]
    assert cluster.on(m0, ["ls", "-A", "/etc/kubernetes"], check=False) == ""
    assert cluster.run("diff").returncode == 0


def test_three_masters_to_one_in_one_edit_removes_them_one_at_a_time(cluster: Cluster) -> None:
    masters = [m.address for m in cluster.lab.masters]
    m0, m1, m2 = masters
    # back to three: m0 was cleaned; m2 comes back with the state of the member it was
    cluster.edit(masters=[m1, m0, m2])
    grown = cluster.run("apply", "--yes", "--quiet")
    assert grown.returncode == 0, grown.stdout + grown.stderr
    assert len(_members(cluster, m1)) == 3
    assert cluster.run("diff").returncode == 0

    cluster.edit(masters=[m1])
    log = cluster.workdir / "three-to-one.jsonl"
    result = _apply_with_state(cluster, log)
    assert result.returncode == 0, result.stdout + result.stderr
    assert _members(cluster, m1) == [cluster.lab.masters[1].name]
    # the run log shows the order: one master is gone before the next one is touched, and
    # etcd's health is asked before each removal
    records = [r for r in _log_records(log) if r["kind"] == "run"]
    events = []
    for r in records:
        argv = r["argv"]
        if argv[:2] == ["kubeadm", "reset"]:
            events.append(f"reset {r['host']}")
        elif "health" in argv and "endpoint" in argv:
            events.append("health")
        elif argv[:1] == ["etcdctl"] and "remove" in argv:
            events.append("member-remove")
    first, second = (e for e in events if e.startswith("reset"))
    assert first != second
    assert events.index(first) < events.index(second)
    between = events[events.index(first) : events.index(second)]
    assert "health" in between and "member-remove" in between, events
    assert events[0] == "health", events
    assert cluster.run("diff").returncode == 0


def _file_nodes(cluster: Cluster) -> list[str]:
    return [str(a) for a in YAML().load(cluster.file.read_text())["spec"]["nodes"]]


def test_clean_with_another_clusters_file_refuses_without_force(cluster: Cluster) -> None:
    yaml = YAML()
    data = yaml.load(cluster.file.read_text())
    data["metadata"]["name"] = "not-this-one"
    other = cluster.workdir / "other.yaml"
    with other.open("w") as handle:
        yaml.dump(data, handle)
    args = ["clean", "-f", str(other), *cluster.ssh_flags(), "--yes", "--quiet"]
    refused = sealer(*args)
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert "belong to another cluster than 'not-this-one'" in refused.stderr
    assert f"cluster {cluster.lab.name!r}" in refused.stderr
    assert "--force" in refused.stderr and "Nothing was cleaned" in refused.stderr
    listed = [str(a) for a in (*data["spec"]["masters"], *data["spec"]["nodes"])]
    for address in listed:  # nothing was cleaned
        assert cluster.on(address, ["cat", IDENTITY_FILE])

    forced = sealer(*args, "--force")
    assert forced.returncode == 0, forced.stdout + forced.stderr
    assert "--force: cleaning" in forced.stderr
    for address in listed:
        assert cluster.on(address, ["ls", "-A", "/var/lib/sealer"], check=False) == ""
        assert cluster.on(address, ["ls", "-A", "/etc/kubernetes"], check=False) == ""
