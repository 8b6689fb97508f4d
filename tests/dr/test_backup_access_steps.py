"""``sealer backup`` and ``sealer kubeconfig`` against tests/steps/fake_remote.py: the commands
they run on a master, what they read, and their refusals (no lab)."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json

import pytest
from cryptography import x509

from sealer.dr import ArchiveError
from sealer.dr.access import admin_kubeconfig, user_kubeconfig
from sealer.dr.backup import BACKUP_WORK_DIR, Healthy, take_backup
from sealer.errors import KubeError, PlanError
from sealer.facts.cluster import ETCDCTL
from sealer.kube.kubeconfig import build_kubeconfig, parse_kubeconfig
from sealer.kube.pki import ClusterCA
from sealer.plan.access import host_access
from tests.clusters import IDENTITY, M, cluster
from tests.steps.fake_remote import Call, FakeRemote, Reply

MASTER = Healthy(M[0], host_access(cluster(), M[0]))
SNAPSHOT = b"etcd snapshot bytes"
MEMBERS = {"members": [{"ID": 1, "name": "m-2", "peerURLs": ["https://10.9.0.2:2380"],
                        "clientURLs": ["https://10.9.0.2:2379"]}]}  # fmt: skip


def _master(fake: FakeRemote, ca: ClusterCA, identity: str) -> None:
    for path, pki in ca.to_files().items():
        fake.write(M[0], f"/etc/kubernetes/{path}", pki.content, pki.mode)
    fake.write(M[0], "/var/lib/sealer/cluster.json", identity)
    fake.on(["cat", "--", "/var/lib/sealer/cluster.json"], read=True, stdout=identity)
    fake.on(["hostname"], read=True, stdout="m-2\n")
    fake.on([*ETCDCTL, "member", "list", "-w", "json"], read=True, stdout=json.dumps(MEMBERS))
    fake.on(["etcdctl", "version"], read=True, stdout="etcdctl version: 3.4.23\nAPI version: 3.4\n")
    fake.on(["mkdir", "-p", "-m", "0700", "--", BACKUP_WORK_DIR])

    def save(fake: FakeRemote, call: Call) -> Reply:
        fake.write(M[0], call.argv[-1], SNAPSHOT, 0o600)
        return Reply()

    fake.on_prefix([*ETCDCTL, "snapshot", "save"], save)
    fake.on_prefix(
        [*ETCDCTL, "snapshot", "status"],
        read=True,
        stdout='{"hash":3280519337,"revision":1187,"totalKey":642,"totalSize":3997696}',
    )
    digest = hashlib.sha256(SNAPSHOT).hexdigest()
    fake.on_prefix(["sha256sum"], lambda f, c: Reply(stdout=f"{digest}  {c.argv[-1]}\n"), read=True)
    fake.on_prefix(["rm", "-f", "--"])


def test_backup_saves_verifies_and_removes_the_snapshot_on_the_master() -> None:
    ca = ClusterCA.generate(cluster().spec)
    fake = FakeRemote()
    identity = json.dumps({"name": "t", "uid": IDENTITY.uid, "created": ""})
    _master(fake, ca, identity)
    archive = asyncio.run(take_backup(fake, cluster(), MASTER, b"kind: Cluster\n"))
    assert (archive.cluster, archive.uid) == ("t", IDENTITY.uid)
    assert archive.snapshot == SNAPSHOT
    assert (archive.etcd.revision, archive.etcd.hash, archive.etcd.keys) == (1187, 3280519337, 642)
    assert archive.etcd.etcdctl_version == "3.4.23"
    assert [(m.name, m.peer_url) for m in archive.etcd.members] == [
        ("m-2", "https://10.9.0.2:2380")]  # fmt: skip
    assert set(archive.pki) == {"pki/ca.crt", "pki/ca.key", "pki/front-proxy-ca.crt",
                                "pki/front-proxy-ca.key", "pki/etcd/ca.crt", "pki/etcd/ca.key",
                                "pki/sa.key", "pki/sa.pub"}  # fmt: skip
    saved = [
        c for c in fake.commands() if c[len(ETCDCTL) : len(ETCDCTL) + 2] == ("snapshot", "save")
    ]
    [path] = [c[-1] for c in saved]
    assert path.startswith(f"{BACKUP_WORK_DIR}/.snapshot-")
    assert fake.commands()[-1] == ("rm", "-f", "--", path)  # nothing left on the master


def test_backup_refuses_a_snapshot_without_keys_and_still_removes_it() -> None:
    fake = FakeRemote()
    _master(
        fake, ClusterCA.generate(cluster().spec), json.dumps({"name": "t", "uid": IDENTITY.uid})
    )
    fake.on_prefix([*ETCDCTL, "snapshot", "status"], read=True,
                   stdout='{"hash":1,"revision":1,"totalKey":0,"totalSize":20480}')  # fmt: skip
    with pytest.raises(ArchiveError, match="the snapshot holds no keys"):
        asyncio.run(take_backup(fake, cluster(), MASTER, b""))
    assert fake.commands()[-1][:3] == ("rm", "-f", "--")


def test_backup_refuses_a_master_of_another_cluster() -> None:
    fake = FakeRemote()
    foreign = json.dumps({"name": "payments", "uid": IDENTITY.uid})
    _master(fake, ClusterCA.generate(cluster().spec), foreign)
    with pytest.raises(PlanError, match="belongs to cluster 'payments'"):
        asyncio.run(take_backup(fake, cluster(), MASTER, b""))
    assert fake.changes() == []


def _apiserver(fake: FakeRemote, ca: ClusterCA, ips: list[str]) -> None:
    pair = ca.issue("ca", "kube-apiserver", server_auth=True, years=1, ip_addresses=ips)
    fake.write(M[0], "/etc/kubernetes/pki/apiserver.crt", pair.cert_pem())


def test_kubeconfig_refuses_a_server_the_certificate_does_not_cover() -> None:
    ca = ClusterCA.generate(cluster().spec)
    fake = FakeRemote()
    _apiserver(fake, ca, ["127.0.0.1"])
    with pytest.raises(KubeError, match=f"does not cover {M[0]}") as refused:
        asyncio.run(admin_kubeconfig(fake, cluster(), MASTER, None))
    assert f"add {M[0]} to spec.network.certSANs" in (refused.value.hint or "")
    with pytest.raises(KubeError, match=r"does not cover lb\.example\.com"):
        asyncio.run(admin_kubeconfig(fake, cluster(), MASTER, "https://lb.example.com:6443"))


def test_admin_kubeconfig_points_at_the_master() -> None:
    ca = ClusterCA.generate(cluster().spec)
    fake = FakeRemote()
    _apiserver(fake, ca, [M[0]])
    admin = ca.issue("ca", "kubernetes-admin", organizations=("kubeadm:cluster-admins",),
                     client_auth=True, years=1)  # fmt: skip
    conf = build_kubeconfig(
        cluster_name="kubernetes",
        server="https://apiserver.cluster.local:6443",
        ca_cert_pem=ca.ca.cert_pem(),
        user="kubernetes-admin",
        client_cert_pem=admin.cert_pem(),
        client_key_pem=admin.key_pem(),
    )
    fake.write(M[0], "/etc/kubernetes/admin.conf", conf, 0o600)
    issued = asyncio.run(admin_kubeconfig(fake, cluster(), MASTER, None))
    info = parse_kubeconfig(issued.kubeconfig)
    assert info.server == f"https://{M[0]}:6443"
    assert info.client_cert_pem == admin.cert_pem() and issued.not_after is None
    assert fake.changes() == []  # nothing written on the master


def test_user_kubeconfig_is_signed_by_the_cluster_ca_and_short_lived() -> None:
    ca = ClusterCA.generate(cluster().spec)
    fake = FakeRemote()
    _apiserver(fake, ca, [M[0]])
    for path, pki in ca.to_files().items():
        fake.write(M[0], f"/etc/kubernetes/{path}", pki.content, pki.mode)
    issued = asyncio.run(user_kubeconfig(fake, cluster(), MASTER, None, "dev", ("team-a",),
                                         dt.timedelta(hours=1)))  # fmt: skip
    info = parse_kubeconfig(issued.kubeconfig)
    assert info.user == "dev" and info.client_cert_pem is not None
    cert = x509.load_pem_x509_certificate(info.client_cert_pem)
    cert.verify_directly_issued_by(ca.ca.cert)
    assert cert.subject.rfc4514_string() == "CN=dev,O=team-a"
    left = cert.not_valid_after_utc - dt.datetime.now(dt.UTC)
    assert dt.timedelta(minutes=59) < left <= dt.timedelta(hours=1)
    assert fake.changes() == []
