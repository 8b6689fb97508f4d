"""Disaster recovery on the lab: ``sealer backup``, ``sealer restore``, ``sealer kubeconfig``.

One lab for the module, three masters and one node; the tests run in order and build on each
other, as a restore drill would (docs/operations.md, "Backup and restore"):

1. a label on a Node, then ``sealer backup`` (plain, and encrypted with a passphrase);
2. every master loses /var/lib/etcd (control plane stopped, data wiped, started again);
3. ``sealer restore``: the label is back, Node uids unchanged, every Node Ready, 3 members,
   ``diff`` exits 0;
5. ``sealer kubeconfig`` works with this machine's kubectl; a ``--user dev`` one
   authenticates as dev, and expires;
6. an encrypted archive with a wrong passphrase is a clear error and changes nothing;
7. ``spec.backup``: a timer on every master takes verified, rotated snapshots; removed with
   the field;
4. (last: it is the most destructive) the same as 3 after ``sealer clean`` of the masters
   only, with the encrypted archive: an install from the archive's CAs, then the restore;
   the node's kubelet holds a certificate of another CA before it, and is re-joined.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from ruamel.yaml import YAML

import sealer_lab
from sealer.facts.cluster import ETCDCTL
from tests.conftest import kubernetes_lab
from tests.sealer_cli import run_sealer
from tests.secret_watch import token_secrets
from tests.waiting import wait_for

pytestmark = [pytest.mark.lab, pytest.mark.slow]

VERSION = "v1.29.3"
LABEL = ("sealer.dev/drill", "before-backup")
PASSPHRASE_VAR = "SEALER_TEST_BACKUP_PASSPHRASE"
MANIFESTS = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler")
KUBECTL = ["kubectl", "--kubeconfig", "/etc/kubernetes/admin.conf"]


class Cluster:
    def __init__(self, lab: sealer_lab.Lab, file: Path) -> None:
        self.lab = lab
        self.file = file
        self.backups = file.parent / "backups"
        self.archives: dict[str, Path] = {}
        self.node_uids: dict[str, str] = {}

    @property
    def masters(self) -> list[str]:
        return [h.address for h in self.lab.masters]

    @property
    def node(self) -> str:
        return self.lab.nodes[0].address

    def sealer(
        self, *args: str, env: dict[str, str] | None = None, file: Path | None = None
    ) -> subprocess.CompletedProcess[str]:
        return run_sealer(
            args[0],
            "-f",
            str(file or self.file),
            "--known-hosts",
            str(self.lab.known_hosts),
            *args[1:],
            env={"XDG_STATE_HOME": str(self.file.parent / "state"), **(env or {})},
        )

    def on(self, host: str, argv: list[str], check: bool = True) -> str:
        return self.lab.run(host, argv, check=check, timeout=120).stdout

    def nodes(self, via: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = json.loads(
            self.on(via, [*KUBECTL, "get", "nodes", "-o", "json"])
        )["items"]
        return items

    def all_ready(self, via: str) -> bool:
        try:
            items = self.nodes(via)
        except subprocess.CalledProcessError:
            return False
        ready = [
            c["status"] == "True"
            for n in items
            for c in n["status"].get("conditions", [])
            if c["type"] == "Ready"
        ]
        return len(items) == 4 and len(ready) == 4 and all(ready)


@pytest.fixture(scope="module")
def cluster(lab_session_id: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    workdir = tmp_path_factory.mktemp("dr")
    with kubernetes_lab(lab_session_id, "dr", workdir, 3, 1, version=VERSION) as lab:
        assert lab.clusterfile is not None
        yield Cluster(lab, lab.clusterfile)


def test_1_backup_of_a_labelled_cluster(cluster: Cluster) -> None:
    for _ in range(3):  # the emulated second etcd join can report unhealthy once: apply again
        applied = cluster.sealer("apply", "--yes", "--quiet")
        if applied.returncode == 0 and cluster.sealer("diff").returncode == 0:
            break
    assert cluster.sealer("diff").returncode == 0, applied.stdout + applied.stderr
    m0 = cluster.masters[0]
    name = cluster.lab.nodes[0].name
    cluster.on(m0, [*KUBECTL, "label", "node", name, f"{LABEL[0]}={LABEL[1]}"])
    cluster.node_uids = {n["metadata"]["name"]: n["metadata"]["uid"] for n in cluster.nodes(m0)}

    result = cluster.sealer("backup", "-o", str(cluster.backups), "--keep", "3", "--output", "json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    path = Path(report["path"])
    assert path.parent == cluster.backups and path.name.endswith(".tar.gz")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert report["size"] == path.stat().st_size
    assert report["etcd"]["revision"] > 0 and report["etcd"]["keys"] > 0
    assert report["encrypted"] is False
    # the snapshot in it is one etcd reads: etcdctl's own status agrees with the manifest
    extracted = cluster.file.parent / "extracted"
    extracted.mkdir()
    subprocess.run(["tar", "-xzf", str(path), "-C", str(extracted)], check=True)
    manifest = json.loads((extracted / "manifest.json").read_text())
    status = json.loads(
        subprocess.run(
            ["etcdctl", "snapshot", "status", "-w", "json", str(extracted / "etcd/snapshot.db")],
            capture_output=True, text=True, check=True,
        ).stdout
    )  # fmt: skip
    assert status["revision"] == manifest["etcd"]["revision"] == report["etcd"]["revision"]
    assert status["hash"] == manifest["etcd"]["hash"]
    assert {"kubernetes/pki/ca.key", "kubernetes/pki/etcd/ca.key", "kubernetes/pki/sa.key",
            "cluster.json", "Clusterfile.yaml"} <= set(manifest["files"])  # fmt: skip
    assert len(manifest["etcd"]["members"]) == 3
    cluster.archives["plain"] = path

    text = cluster.sealer(
        "backup", "-o", str(cluster.backups), "--keep", "3", "--passphrase-env", PASSPHRASE_VAR,
        env={PASSPHRASE_VAR: "correct horse battery staple"},
    )  # fmt: skip
    assert text.returncode == 0, text.stderr
    encrypted = Path(text.stdout.split(":")[0])
    assert encrypted.name.endswith(".tar.gz.enc"), text.stdout
    assert "etcd revision" in text.stdout and "encrypted" in text.stdout
    assert stat.S_IMODE(encrypted.stat().st_mode) == 0o600
    assert b"ca.key" not in encrypted.read_bytes()
    cluster.archives["encrypted"] = encrypted


def _etcd_down(cluster: Cluster, host: str) -> bool:
    """No etcd process and no control-plane port on ``host``.

    The closed client port alone is not enough: etcd closes it first and then stops its raft
    node (a leader tries to hand its leadership over for up to seven seconds), and the lab's
    kubelet stops a joined master's etcd last. A new etcd started meanwhile on master0 with the
    same ``--initial-cluster`` and the default token has the same cluster and member IDs as the
    old one, so the old leader, still running, would take it back into the old cluster."""
    ports = cluster.on(host, ["ss", "-H", "-l", "-t", "-n"])
    if any(f":{port} " in ports for port in (2379, 2380, 6443)):
        return False
    return cluster.lab.run(host, ["pgrep", "-x", "etcd"], check=False).returncode == 1


def test_2_every_master_loses_its_etcd_data(cluster: Cluster) -> None:
    for host in cluster.masters:
        cluster.on(host, ["mkdir", "-p", "/root/stopped"])
        for pod in MANIFESTS:
            cluster.on(host, ["mv", f"/etc/kubernetes/manifests/{pod}.yaml", "/root/stopped/"])
    for host in cluster.masters:
        wait_for(f"the control plane of {host} to stop", lambda h=host: _etcd_down(cluster, h),
                 timeout=120, interval=1)  # fmt: skip
        cluster.on(host, ["rm", "-rf", "/var/lib/etcd/member"])
    for host in cluster.masters:
        for pod in MANIFESTS:
            cluster.on(host, ["mv", f"/root/stopped/{pod}.yaml", "/etc/kubernetes/manifests/"])
    # the cluster's data is gone: master0's etcd starts a new cluster of its own (one member,
    # no Node of the worker's label), whatever its kubelet registers in it meanwhile
    m0 = cluster.masters[0]

    def alone() -> bool:
        out = cluster.lab.run(m0, [*ETCDCTL, "member", "list", "-w", "json"], check=False)
        return out.returncode == 0 and len(json.loads(out.stdout)["members"]) == 1

    def not_alone() -> str:
        out = cluster.lab.run(m0, [*ETCDCTL, "member", "list"], check=False)
        pod_log = f"/var/lib/kubelet/pod-logs/kube-system_etcd-{cluster.lab.masters[0].name}.log"
        log = cluster.on(m0, ["tail", "-n", "25", pod_log], check=False)
        return (f"master0's etcd to be a new cluster of one member; member list: "
                f"{out.stdout}{out.stderr}; the end of its log:\n{log}")  # fmt: skip

    wait_for(not_alone, alone, timeout=300, interval=1)
    labels = cluster.lab.run(m0, [*ETCDCTL, "get", "/registry/minions/", "--prefix"], check=False)
    assert LABEL[1] not in labels.stdout


def test_3_restore_brings_the_cluster_back(cluster: Cluster) -> None:
    result = cluster.sealer(
        "restore", "--from", str(cluster.archives["plain"]), "--yes", "--output", "json"
    )
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["restored"] is True and report["etcd_members"] == 3
    assert set(report["masters"]) == set(cluster.masters)
    # the data etcd had before the restore was moved aside, not deleted
    aside = report["aside"][cluster.masters[0]]
    assert cluster.on(cluster.masters[0], ["ls", aside]).split() == ["snap", "wal"]
    _assert_restored(cluster, cluster.masters[1])


def _kubectl(kubeconfig: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["kubectl", "--kubeconfig", str(kubeconfig), "--request-timeout", "20s", *args],
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip


def test_5_kubeconfig_from_the_workstation(cluster: Cluster) -> None:
    admin = cluster.sealer("kubeconfig")
    assert admin.returncode == 0, admin.stderr
    kc = cluster.file.parent / "admin.kubeconfig"
    kc.write_text(admin.stdout)
    assert f"server: https://{cluster.masters[0]}:6443" in admin.stdout
    nodes = _kubectl(kc, "get", "nodes", "-o", "name")
    assert nodes.returncode == 0, nodes.stderr
    assert len(nodes.stdout.split()) == 4

    dev_file = cluster.file.parent / "dev.kubeconfig"
    dev = cluster.sealer("kubeconfig", "--user", "dev", "--ttl", "1h", "-o", str(dev_file))
    assert dev.returncode == 0, dev.stderr
    assert dev.stdout == ""  # written to the file only
    assert stat.S_IMODE(dev_file.stat().st_mode) == 0o600
    denied = _kubectl(dev_file, "get", "nodes")
    assert denied.returncode != 0
    assert 'User "dev" cannot list resource "nodes"' in denied.stderr, denied.stderr
    cert = _client_cert(dev_file)
    assert cert.subject.rfc4514_string() == "CN=dev"
    lifetime = cert.not_valid_after_utc - dt.datetime.now(dt.UTC)
    assert dt.timedelta(minutes=55) < lifetime <= dt.timedelta(hours=1)

    # a short-lived one works, then stops working once it has expired
    brief_file = cluster.file.parent / "brief.kubeconfig"
    brief = cluster.sealer(
        "kubeconfig", "--user", "brief", "--group", "system:masters", "--ttl", "20s",
        "-o", str(brief_file),
    )  # fmt: skip
    assert brief.returncode == 0, brief.stderr
    works = _kubectl(brief_file, "get", "nodes", "-o", "name")
    assert works.returncode == 0, works.stderr

    def refused() -> str | None:
        out = _kubectl(brief_file, "get", "nodes", "-o", "name")
        return out.stderr if out.returncode != 0 else None

    stderr = wait_for("the 20s certificate to be refused", refused, timeout=120, interval=2)
    assert "You must be logged in to the server" in stderr, stderr  # 401


def _client_cert(kubeconfig: Path) -> x509.Certificate:
    doc = YAML(typ="safe").load(kubeconfig.read_text())
    data = doc["users"][0]["user"]["client-certificate-data"]
    return x509.load_pem_x509_certificate(base64.b64decode(data))


def test_6_a_wrong_passphrase_changes_nothing(cluster: Cluster) -> None:
    m0 = cluster.masters[0]
    before = cluster.on(m0, ["ls", "/var/lib"]).split()
    result = cluster.sealer(
        "restore", "--from", str(cluster.archives["encrypted"]), "--yes",
        "--passphrase-env", PASSPHRASE_VAR, env={PASSPHRASE_VAR: "wrong horse"},
    )  # fmt: skip
    assert result.returncode == 1
    assert "cannot decrypt the archive: wrong passphrase" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert "nothing was changed" in result.stderr
    assert cluster.on(m0, ["ls", "/var/lib"]).split() == before
    assert cluster.on(m0, ["ls", "/var/lib/sealer"]).split().count("run.lock") == 0
    missing = cluster.sealer("restore", "--from", str(cluster.archives["encrypted"]), "--yes")
    assert missing.returncode == 1 and "the archive is encrypted" in missing.stderr
    assert cluster.sealer("diff").returncode == 0


BACKUP_DIR = "/var/backups/sealer-etcd"
TIMER = "sealer-etcd-backup.timer"
ELAPSE_HOOK = f"/run/systemd-emu/timers/{TIMER}.elapse"  # the lab's hook: elapse now


def _with_backup(cluster: Cluster, name: str, backup: dict[str, Any] | None) -> Path:
    yaml = YAML()
    data = yaml.load(cluster.file.read_text())
    if backup is not None:
        data["spec"]["backup"] = backup
    path = cluster.file.parent / name
    with path.open("w") as handle:
        yaml.dump(data, handle)
    return path


def _snapshots(cluster: Cluster, host: str) -> list[str]:
    out = cluster.lab.run(host, ["ls", BACKUP_DIR], check=False).stdout.split()
    return sorted(n for n in out if n.endswith(".db"))


def _exists(cluster: Cluster, host: str, name: str) -> bool:
    return (
        cluster.lab.run(host, ["test", "-e", f"{BACKUP_DIR}/{name}"], check=False).returncode == 0
    )


def test_7_scheduled_snapshots_on_every_master(cluster: Cluster) -> None:
    """spec.backup: a timer on every master; it fires the service, which leaves a verified
    0600 snapshot; rotation to keep; status shows the newest; an unchanged file plans nothing,
    a changed keep rewrites the service; removing spec.backup removes the timer and keeps the
    snapshots."""
    keep2 = _with_backup(
        cluster, "backup.yaml", {"schedule": "*-*-* 03:00", "keep": 2, "dir": BACKUP_DIR}
    )
    applied = cluster.sealer("apply", "--yes", "--quiet", file=keep2)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    for host in cluster.masters:
        assert cluster.on(host, ["systemctl", "is-enabled", TIMER]).strip() == "enabled"
        assert cluster.on(host, ["systemctl", "is-active", TIMER]).strip() == "active"
        assert "03:00:00 UTC" in cluster.on(host, ["systemctl", "list-timers"])
    on_node = cluster.lab.run(cluster.node, ["systemctl", "is-active", TIMER], check=False)
    assert on_node.stdout.strip() == "inactive"  # masters only
    again = cluster.sealer("diff", file=keep2)
    assert again.returncode == 0, again.stdout + again.stderr

    m0 = cluster.masters[0]
    cluster.on(m0, ["touch", ELAPSE_HOOK])  # the timer elapses: its scheduler starts the service
    first = wait_for(  # its .sha256 is written last
        "the timer's snapshot and its .sha256 on master0",
        lambda: [n for n in _snapshots(cluster, m0) if _exists(cluster, m0, f"{n}.sha256")] or None,
        timeout=120,
    )
    path = f"{BACKUP_DIR}/{first[0]}"
    assert cluster.on(m0, ["stat", "-c", "%a", BACKUP_DIR, path]).split() == ["700", "600"]
    status = json.loads(cluster.on(m0, ["etcdctl", "snapshot", "status", "-w", "json", path]))
    assert status["totalKey"] > 0 and status["revision"] > 0  # etcd's own tool reads it
    assert cluster.on(m0, ["sh", "-c", f"cd {BACKUP_DIR} && sha256sum -c {first[0]}.sha256"])
    for _ in range(2):  # the service by hand, as an operator would: rotation keeps 2
        cluster.on(m0, ["systemctl", "start", "sealer-etcd-backup.service"])
    kept = _snapshots(cluster, m0)
    assert len(kept) == 2 and first[0] not in kept, kept
    journal = cluster.on(m0, ["journalctl", "-u", "sealer-etcd-backup.service"])
    assert "kept the newest 2, removed 1" in journal, journal
    # status shows each master's newest snapshot (the last one written) and its last run
    newest = next(n for n in cluster.on(m0, ["ls", "-1t", BACKUP_DIR]).split() if n in kept)
    status = cluster.sealer("status", "--output", "json", file=keep2)
    assert status.returncode in (0, 2, 3), status.stdout + status.stderr
    backups = {h["address"]: h["backups"] for h in json.loads(status.stdout)["hosts"]}
    assert backups[m0]["last_snapshot"] == newest and backups[m0]["last_run_failed"] is False
    assert all(backups[m]["last_snapshot"] is None for m in cluster.masters[1:])
    assert backups[cluster.node] is None

    keep3 = _with_backup(
        cluster, "backup3.yaml", {"schedule": "*-*-* 03:00", "keep": 3, "dir": BACKUP_DIR}
    )
    changed = cluster.sealer("diff", file=keep3)
    assert changed.returncode == 2
    assert "service out of date" in changed.stdout, changed.stdout
    assert changed.stdout.count("backup-schedule") >= 3, changed.stdout
    assert cluster.sealer("apply", "--yes", "--quiet", file=keep3).returncode == 0
    assert "--keep 3" in cluster.on(m0, ["cat", "/etc/systemd/system/sealer-etcd-backup.service"])
    assert cluster.sealer("diff", file=keep3).returncode == 0

    removed = cluster.sealer("apply", "--yes", file=cluster.file)
    assert removed.returncode == 0, removed.stdout + removed.stderr
    assert f"the snapshots stay in {BACKUP_DIR}" in removed.stderr, removed.stderr
    for host in cluster.masters:
        active = cluster.lab.run(host, ["systemctl", "is-active", TIMER], check=False)
        assert active.stdout.strip() == "inactive"
        files = [
            "/etc/systemd/system/sealer-etcd-backup.timer",
            "/usr/local/bin/sealer-etcd-backup",
        ]
        gone = cluster.lab.run(host, ["ls", *files], check=False)
        assert gone.returncode != 0 and gone.stdout == ""
    assert _snapshots(cluster, m0) == kept  # the operator's backups stay
    assert cluster.sealer("diff").returncode == 0


def _assert_restored(cluster: Cluster, via: str) -> None:
    wait_for("every Node Ready", lambda: cluster.all_ready(via), timeout=300, interval=2)
    nodes = cluster.nodes(via)
    assert {n["metadata"]["name"]: n["metadata"]["uid"] for n in nodes} == cluster.node_uids
    labelled = [n for n in nodes if n["metadata"]["labels"].get(LABEL[0]) == LABEL[1]]
    assert [n["metadata"]["name"] for n in labelled] == [cluster.lab.nodes[0].name]
    members = json.loads(cluster.on(via, [*ETCDCTL, "member", "list", "-w", "json"]))["members"]
    assert sorted(m["name"] for m in members) == sorted(h.name for h in cluster.lab.masters)
    diff = cluster.sealer("diff")
    assert diff.returncode == 0, diff.stdout + diff.stderr


FOREIGN_CERT = """\
set -e
cd "$(mktemp -d)"
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 1 \
    -subj /CN=another-cluster-ca 2>/dev/null
openssl req -newkey rsa:2048 -nodes -keyout node.key -out node.csr \
    -subj "/O=system:nodes/CN=system:node:$1" 2>/dev/null
openssl x509 -req -in node.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 1 \
    -out node.crt 2>/dev/null
cat node.crt node.key > /var/lib/kubelet/pki/kubelet-client-foreign.pem
chmod 0600 /var/lib/kubelet/pki/kubelet-client-foreign.pem
ln -sfn /var/lib/kubelet/pki/kubelet-client-foreign.pem \
    /var/lib/kubelet/pki/kubelet-client-current.pem
"""


def test_4_restore_onto_masters_wiped_by_clean(cluster: Cluster) -> None:
    # the masters have spec.backup's timer again: clean removes it and keeps the snapshots
    scheduled = _with_backup(cluster, "backup.yaml", {"schedule": "daily", "dir": BACKUP_DIR})
    applied = cluster.sealer("apply", "--yes", "--quiet", file=scheduled)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    snapshots = _snapshots(cluster, cluster.masters[0])
    assert snapshots  # test 7's
    # the node's kubelet holds a client certificate of another CA (what a node joined to a
    # re-initialised cluster would hold): the restore must re-join it
    name = cluster.lab.nodes[0].name
    cluster.on(cluster.node, ["sh", "-c", FOREIGN_CERT, "foreign-cert", name])
    cluster.on(cluster.node, ["systemctl", "restart", "kubelet"])
    yaml = YAML()
    data = yaml.load(cluster.file.read_text())
    data["spec"]["nodes"] = []
    masters_file = cluster.file.parent / "masters.yaml"
    with masters_file.open("w") as handle:
        yaml.dump(data, handle)
    clean = cluster.sealer("clean", "--yes", "--quiet", file=masters_file)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    said = f"scheduled etcd snapshots removed (the snapshots stay in {BACKUP_DIR})"
    assert clean.stderr.count(said) == 3, clean.stderr
    for host in cluster.masters:
        gone = cluster.lab.run(host, ["ls", "/etc/systemd/system/" + TIMER], check=False)
        assert gone.returncode != 0 and gone.stdout == ""
    assert _snapshots(cluster, cluster.masters[0]) == snapshots
    for host in cluster.masters:
        left = cluster.lab.run(host, ["ls", "/etc/kubernetes", "/var/lib/etcd/member"],
                               check=False)  # fmt: skip
        assert left.returncode != 0 and left.stdout.strip() == "", left.stdout

    result = cluster.sealer(
        "restore", "--from", str(cluster.archives["encrypted"]), "--yes", "--output", "json",
        "--passphrase-env", PASSPHRASE_VAR, env={PASSPHRASE_VAR: "correct horse battery staple"},
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["restored"] is True and report["etcd_members"] == 3
    # the node's kubelet could not authenticate: re-joined, its Node (uid, label) kept
    assert report["stale_kubelets"] == [cluster.node]
    assert report["rejoined"] == [cluster.node]
    current = cluster.on(
        cluster.node, ["readlink", "-f", "/var/lib/kubelet/pki/kubelet-client-current.pem"]
    )
    assert "foreign" not in current
    _assert_restored(cluster, cluster.masters[2])
    # the masters' install and the re-join each made a bootstrap token: both are deleted
    assert token_secrets(cluster.lab, cluster.masters[0]) == []
