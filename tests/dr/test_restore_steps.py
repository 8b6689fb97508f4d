"""``sealer restore`` without a lab: the plan's refusals, and one member's restore through
tests/steps/fake_remote.py (argv and uploads out)."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib

import pytest

from sealer.connect import HostAccess
from sealer.dr import ArchiveError
from sealer.dr.restore import (
    MasterView,
    RestoreOptions,
    all_fresh,
    archive_ca,
    archive_identity,
    check_archive,
    masters_only,
    plan_restore,
    run_restore,
    stale_kubelets,
)
from sealer.dr.restore import _restore_member as restore_member
from sealer.errors import KubeError, PlanError, StepError
from sealer.kube.pki import ClusterCA
from tests.clusters import IDENTITY, OTHER, M, N, cluster
from tests.dr.test_archive import ARCHIVE
from tests.steps.fake_remote import FakeRemote

ARCH = dataclasses.replace(ARCHIVE, cluster="t", uid=IDENTITY.uid)


def _view(address: str, **changes: object) -> MasterView:
    base = MasterView(
        address=address,
        access=HostAccess(address=address),
        hostname=f"m-{address.rsplit('.', 1)[1]}",
        identity=IDENTITY,
        manifests=("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler"),
        etcd_data=True,
        tool="etcdctl",
        missing_pki=(),
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def test_an_archive_of_another_cluster_is_refused_unless_forced() -> None:
    other = dataclasses.replace(ARCH, cluster="payments")
    with pytest.raises(ArchiveError, match="of cluster 'payments', the Clusterfile names 't'"):
        check_archive(cluster(), other, "a.tar.gz", force=False)
    assert check_archive(cluster(), other, "a.tar.gz", force=True)
    assert check_archive(cluster(), ARCH, "a.tar.gz", force=False) == []


def test_a_master_of_another_uid_is_refused_unless_forced() -> None:
    views = [_view(M[0]), _view(M[1], identity=OTHER), _view(M[2])]
    with pytest.raises(PlanError, match=f"{M[1]}: this host belongs to cluster 't' \\(uid 1111"):
        plan_restore(cluster(), ARCH, views, force=False)
    _, warnings = plan_restore(cluster(), ARCH, views, force=True)
    assert len(warnings) == 1 and M[1] in warnings[0]


def test_masters_without_manifests_are_refused() -> None:
    views = [_view(M[0]), _view(M[1], manifests=()), _view(M[2], manifests=())]
    with pytest.raises(PlanError, match=f"master\\(s\\) {M[1]}, {M[2]} have no control-plane"):
        plan_restore(cluster(), ARCH, views, force=False)


def test_plan_names_members_and_a_new_token() -> None:
    views = [_view(a) for a in M]
    plan, warnings = plan_restore(cluster(), ARCH, views, force=False)
    assert warnings == []
    assert [m.name for m in plan.members.values()] == ["m-2", "m-3", "m-4"]
    assert plan.token.startswith("sealer-restore-")
    second, _ = plan_restore(cluster(), ARCH, views, force=False)
    assert second.token != plan.token
    lines = plan.lines()
    assert f"{M[0]} (m-2): stop 4 control-plane pod(s); move /var/lib/etcd/member aside" in lines[1]


def test_one_member_is_restored_beside_its_old_data() -> None:
    views = [_view(a) for a in M]
    plan, _ = plan_restore(cluster(), ARCH, views, force=False)
    fake = FakeRemote()
    fake.on_prefix(["mkdir"])
    fake.on_prefix(["mv"])
    fake.on_prefix(["rmdir"])
    fake.on_prefix(["rm"])
    fake.on_prefix(["etcdctl", "snapshot", "restore"])
    said: list[str] = []
    aside = asyncio.run(restore_member(fake, plan, views[0], lambda _h, m: said.append(m)))
    stamp = plan.stamp
    assert aside == f"/var/lib/etcd/member.before-restore-{stamp}"
    snapshot = f"/var/lib/sealer/restore/snapshot-{stamp}.db"
    [upload] = fake.uploads
    assert (upload.path, upload.mode) == (snapshot, 0o600)
    assert hashlib.sha256(upload.content).digest() == hashlib.sha256(ARCH.snapshot).digest()
    initial = "m-2=https://10.9.0.2:2380,m-3=https://10.9.0.3:2380,m-4=https://10.9.0.4:2380"
    assert fake.commands() == [
        ("mkdir", "-p", "-m", "0700", "--", "/var/lib/sealer/restore"),
        ("mv", "-T", "--", "/var/lib/etcd/member", aside),
        ("mkdir", "-p", "-m", "0700", "--", "/var/lib/etcd"),
        ("etcdctl", "snapshot", "restore", snapshot, "--name", "m-2",
         "--initial-cluster", initial, "--initial-cluster-token", plan.token,
         "--initial-advertise-peer-urls", "https://10.9.0.2:2380",
         "--data-dir", f"/var/lib/etcd/restore-{stamp}"),
        ("mv", "-T", "--", f"/var/lib/etcd/restore-{stamp}/member", "/var/lib/etcd/member"),
        ("rmdir", "--", f"/var/lib/etcd/restore-{stamp}"),
        ("rm", "-f", "--", snapshot),
    ]  # fmt: skip
    # nothing is deleted before the new data is in place: the old data only moves
    assert not any(c[0] == "rm" and "/var/lib/etcd" in " ".join(c) for c in fake.commands())
    assert said[-1] == "snapshot restored as member m-2"


def test_a_master_without_etcd_data_has_nothing_to_move_aside() -> None:
    view = _view(M[1], etcd_data=False, tool="etcdutl")
    plan, _ = plan_restore(cluster(), ARCH, [_view(M[0]), view, _view(M[2])], force=False)
    fake = FakeRemote()
    for prefix in (["mkdir"], ["mv"], ["rmdir"], ["rm"], ["etcdutl", "snapshot", "restore"]):
        fake.on_prefix(prefix)
    assert asyncio.run(restore_member(fake, plan, view, lambda _h, _m: None)) is None
    assert not any(c[:2] == ("mv", "-T") and c[3] == "/var/lib/etcd/member"
                   for c in fake.commands())  # fmt: skip
    assert any(c[0] == "etcdutl" for c in fake.commands())


def test_masters_without_an_etcd_tool_are_refused() -> None:
    views = [_view(M[0]), _view(M[1], tool=""), _view(M[2])]
    with pytest.raises(PlanError, match=f"{M[1]}: neither etcdutl nor etcdctl is installed"):
        plan_restore(cluster(), ARCH, views, force=False)


def test_fresh_masters_are_installed_from_the_archive_first() -> None:
    fresh = [_view(a, manifests=(), etcd_data=False, identity=None) for a in M]
    assert all_fresh(fresh)
    assert not all_fresh([*fresh[:2], _view(M[2])])
    # a master without manifests that still holds etcd data is not fresh: refused
    kept = [*fresh[:2], _view(M[2], manifests=())]
    assert not all_fresh(kept)
    with pytest.raises(PlanError, match="have no control-plane manifests"):
        plan_restore(cluster(), ARCH, kept, force=False)
    full = cluster()
    assert full.spec.node_addresses  # computed (and cached) before the copy
    only = masters_only(full)
    assert only.spec.master_addresses == M and only.spec.node_addresses == []
    assert only.spec.all_addresses == M
    assert full.spec.node_addresses  # the original is unchanged


def test_the_archive_s_identity_and_cas() -> None:
    identity = archive_identity(
        dataclasses.replace(ARCH, identity=b'{"name": "t", "uid": "%s"}' % IDENTITY.uid.encode())
    )
    assert (identity.name, identity.uid) == ("t", IDENTITY.uid)
    with pytest.raises(ArchiveError, match=r"cluster\.json is not a cluster identity"):
        archive_identity(dataclasses.replace(ARCH, identity=b'{"name": "t"}'))
    ca = ClusterCA.generate(cluster().spec)
    files = {path: f.content for path, f in ca.to_files().items()}
    loaded = archive_ca(dataclasses.replace(ARCH, pki=files))
    assert loaded.ca.cert == ca.ca.cert
    with pytest.raises(KubeError, match=r"the archive: /etc/kubernetes/pki/ca\.crt"):
        archive_ca(ARCH)


def test_a_failed_restore_puts_the_manifests_back_and_says_where_the_data_is() -> None:
    views = [_view(a) for a in M]
    plan, _ = plan_restore(cluster(), ARCH, views, force=False)
    fake = FakeRemote()
    for prefix in (["mkdir"], ["mv"], ["rmdir"], ["rm"]):
        fake.on_prefix(prefix)
    fake.on(["ss", "-H", "-l", "-t", "-n"], read=True, stdout="LISTEN 0 128 0.0.0.0:22 0.0.0.0:*\n")
    fake.on_prefix(["etcdctl", "snapshot", "restore"], exit_status=2, stderr="disk full")
    with pytest.raises(StepError) as failed:
        asyncio.run(run_restore(fake, cluster(), plan, RestoreOptions(), lambda _h, _m: None))
    message = str(failed.value)
    assert "disk full" in message and plan.aside() in message
    assert "manifests were put back" in message
    staging = plan.staging()
    for address in M:
        back = [c for c in fake.commands(address) if c[:2] == ("mv", "-n")]
        assert [c[-1] for c in back] == [
            "/etc/kubernetes/manifests/etcd.yaml",
            "/etc/kubernetes/manifests/kube-apiserver.yaml",
            "/etc/kubernetes/manifests/kube-controller-manager.yaml",
            "/etc/kubernetes/manifests/kube-scheduler.yaml",
        ]
        assert all(c[3].startswith(staging) for c in back)


def test_kubelets_whose_certificate_does_not_verify_are_named() -> None:
    ca, other = ClusterCA.generate(cluster().spec), ClusterCA.generate(cluster().spec)
    good = ca.issue("ca", "system:node:n-5", client_auth=True, years=1)
    bad = other.issue("ca", "system:node:n-6", client_auth=True, years=1)
    fake = FakeRemote()
    path = "/var/lib/kubelet/pki/kubelet-client-current.pem"
    fake.write(N[0], path, good.cert_pem() + good.key_pem())
    fake.write(N[1], path, bad.cert_pem() + bad.key_pem())
    fake.on(["hostname"], read=True, stdout="N-6\n", host=N[1])
    stale = asyncio.run(stale_kubelets(fake, cluster(), ca.ca.cert_pem(), 10.0))
    assert stale == {N[1]: "n-6"}
    fake.remove(N[1], path)  # no certificate file: not judged
    assert asyncio.run(stale_kubelets(fake, cluster(), ca.ca.cert_pem(), 10.0)) == {}
