"""``certs renew`` as a chain of engine steps, against the in-memory fake: one master at a
time, the etcd snapshot before the first restart, and the first failure stops the chain."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sealer.certops.renew import MasterRenewal, RenewEvent, RenewOptions
from sealer.certops.renew_chain import RenewJob, renew_graph, renew_masters
from sealer.errors import CommandFailed, StepError
from sealer.facts.cluster import ETCDCTL
from sealer.facts.health import api_ready, etcd_healthy
from sealer.facts.static_pods import STATIC_PODS, listening_ports
from sealer.kube.pki import ClusterCA
from sealer.layout import ADMIN_CONF, CERTS_BACKUP_ROOT, SNAPSHOT_DIR, USER_KUBECONFIG
from sealer.spec.model import Cluster
from tests.steps.builders import M, cluster, hostname, ls, mv, sha256sum
from tests.steps.fake_remote import Call, FakeRemote, Reply, Upload

MASTERS = M[:2]
FAST = RenewOptions(stop_timeout=1.0, ready_timeout=1.0, poll_interval=0.02)
SAVE = (*ETCDCTL, "snapshot", "save")
STATUS = json.dumps({"hash": 1, "revision": 42, "totalKey": 7, "totalSize": 4096})


def two_masters() -> Cluster:
    return cluster(masters=MASTERS, nodes=[])


def ls_present(fake: FakeRemote, call: Call) -> Reply:
    """``ls -1 -d -- PATH...``: those that exist in the fake's files, one a line."""
    paths = call.argv[4:]
    found = [p for p in paths if fake.file(call.host, p) is not None]
    missing = "".join(f"ls: cannot access '{p}': No such file or directory\n" for p in paths)
    return Reply(0 if len(found) == len(paths) else 2, "".join(f"{p}\n" for p in found), missing)


def ss(fake: FakeRemote, call: Call) -> Reply:
    """The kubelet in one line: a static pod listens while its manifest is in place."""
    ports = [
        port for pod in STATIC_PODS if fake.file(call.host, pod.manifest) for port in pod.ports
    ]
    lines = [f"LISTEN 0      4096       127.0.0.1:{port}      0.0.0.0:*\n" for port in ports]
    return Reply(0, "".join(lines))


def snapshot_save(fake: FakeRemote, call: Call) -> Reply:
    fake.write(call.host, call.argv[-1], b"etcd data")
    return Reply()


def script_master(fake: FakeRemote, host: str) -> None:
    """A healthy master of a running cluster: its manifests, kubeconfig and tools."""
    for pod in STATIC_PODS:
        fake.write(host, pod.manifest, f"{pod.name} manifest")
    fake.write(host, ADMIN_CONF, "old admin.conf", 0o600)
    fake.write(host, USER_KUBECONFIG, "old admin.conf", 0o600)
    fake.on(api_ready.argv, host=host, read=True)
    fake.on(etcd_healthy.argv, host=host, read=True)
    fake.on(listening_ports.argv, ss, host=host, read=True)
    fake.on(["hostname"], host=host, read=True, stdout=f"{hostname(host)}\n")
    fake.on_prefix(["ls", "-1", "-d", "--"], ls_present, host=host, read=True)
    fake.on_prefix(["mkdir", "-p"], host=host)
    fake.on_prefix(["cp", "-a", "--parents"], host=host)
    fake.on_prefix(["mv", "-f", "--"], mv, host=host)
    fake.on_prefix(["rmdir", "--"], host=host)
    fake.on(["install", "-m", "0600", "--", ADMIN_CONF, USER_KUBECONFIG], host=host)


def script_snapshot(fake: FakeRemote, host: str) -> None:
    fake.on_prefix(SAVE, snapshot_save, host=host)
    fake.on_prefix((*ETCDCTL, "snapshot", "status"), host=host, read=True, stdout=STATUS)
    fake.on_prefix(["sha256sum", "--"], sha256sum, host=host, read=True)
    fake.on(["ls", "-1", "--", SNAPSHOT_DIR], ls, host=host, read=True)


@pytest.fixture(scope="module")
def ca() -> ClusterCA:
    """The cluster's CAs (ECDSA: generated in milliseconds)."""
    return ClusterCA.generate(two_masters().spec)


@pytest.fixture
def fake() -> FakeRemote:
    fake = FakeRemote()
    for host in MASTERS:
        script_master(fake, host)
    script_snapshot(fake, MASTERS[0])
    return fake


async def renew(
    fake: FakeRemote, ca: ClusterCA, tmp_path: Path, events: list[RenewEvent]
) -> list[MasterRenewal]:
    return await renew_masters(
        fake, two_masters(), ca, FAST, events.append, snapshots=tmp_path / "snapshots"
    )


def first_change(fake: FakeRemote, host: str) -> int:
    return next(i for i, item in enumerate(fake.log) if item in fake.changes(host))


def last_change(fake: FakeRemote, host: str) -> int:
    changes = fake.changes(host)
    return max(i for i, item in enumerate(fake.log) if item in changes)


def test_the_chain_is_health_snapshot_renew_then_each_next_master(
    fake: FakeRemote, ca: ClusterCA, tmp_path: Path
) -> None:
    job = RenewJob(fake, two_masters(), ca, FAST, "T", lambda _e: None, tmp_path, print)
    graph = renew_graph(job)
    a, b = MASTERS
    chain = [
        f"certs-health@{a}", f"certs-snapshot@{a}", f"certs-renew@{a}",
        f"certs-health@{b}", f"certs-renew@{b}",
    ]  # fmt: skip
    assert graph.order() == chain
    assert [graph.dependencies(sid) for sid in chain] == [[], *([before] for before in chain[:-1])]


async def test_every_master_is_renewed_one_at_a_time_after_the_snapshot(
    fake: FakeRemote, ca: ClusterCA, tmp_path: Path
) -> None:
    events: list[RenewEvent] = []
    done = await renew(fake, ca, tmp_path, events)
    a, b = MASTERS
    assert [(r.address, r.hostname) for r in done] == [(a, hostname(a)), (b, hostname(b))]
    phases = ["backup", "upload", "stopping", "starting", "ready"]
    assert [(e.host, e.phase) for e in events] == [
        (a, "snapshot"),
        *((a, p) for p in phases),
        *((b, p) for p in phases),
    ]
    # the snapshot was copied to the workstation before the first manifest moved
    copied = sorted((tmp_path / "snapshots").glob("etcd-*.db"))
    assert len(copied) == 1 and copied[0].read_bytes() == b"etcd data"
    moved_out = [
        i
        for i, c in enumerate(fake.log)
        if isinstance(c, Call) and c.argv[:3] == ("mv", "-f", "--") and "/manifests/" in c.argv[3]
    ]
    saved = next(
        i for i, c in enumerate(fake.log) if isinstance(c, Call) and c.argv[: len(SAVE)] == SAVE
    )
    assert saved < moved_out[0]
    # master b is not touched before master a is done (ready again)
    assert last_change(fake, a) < first_change(fake, b)
    for host in MASTERS:
        for pod in STATIC_PODS:  # the manifests are back
            assert fake.file(host, pod.manifest) == f"{pod.name} manifest".encode()
        keys = [u for u in fake.uploads if u.host == host and u.path.endswith(".key")]
        assert keys and all(u.mode == 0o600 for u in keys)
    # the files replaced were copied, first, to one backup directory of this run
    assert done[0].backup == done[1].backup
    assert done[0].backup.startswith(f"{CERTS_BACKUP_ROOT}/sealer-certs-renew-")
    for host in MASTERS:
        backup = fake.index(
            ["cp", "-a", "--parents", "-t", done[0].backup, "--", "admin.conf"], host
        )
        first_upload = next(
            i for i, u in enumerate(fake.log) if isinstance(u, Upload) and u.host == host
        )
        assert backup < first_upload


async def test_an_unhealthy_master_refuses_the_renew_before_anything_changes(
    fake: FakeRemote, ca: ClusterCA, tmp_path: Path
) -> None:
    b = MASTERS[1]
    fake.on(api_ready.argv, host=b, read=True, exit_status=1, stderr="connection refused")
    with pytest.raises(StepError) as caught:
        await renew(fake, ca, tmp_path, [])
    assert caught.value.message.startswith(f"certs-renew on {MASTERS[0]}: not started: refusing")
    assert f"{b}: API server not ready (connection refused)" in caught.value.message
    assert fake.changes() == []
    assert not (tmp_path / "snapshots").exists()


async def test_a_master_turning_unhealthy_stops_the_chain_before_the_next_master(
    fake: FakeRemote, ca: ClusterCA, tmp_path: Path
) -> None:
    b = MASTERS[1]
    fake.on(etcd_healthy.argv, [Reply(), Reply(1, "", "unhealthy cluster")], host=b, read=True)
    events: list[RenewEvent] = []
    with pytest.raises(StepError) as caught:
        await renew(fake, ca, tmp_path, events)
    assert caught.value.message.startswith(f"certs-renew on {b}: not started: refusing")
    assert events[-1].host == MASTERS[0] and events[-1].phase == "ready"
    assert fake.changes(b) == []


async def test_a_master_that_does_not_come_back_stops_the_chain_manifests_in_place(
    fake: FakeRemote, ca: ClusterCA, tmp_path: Path
) -> None:
    a, b = MASTERS
    fake.on(api_ready.argv, [Reply(), Reply(1, "", "etcd not ready")], host=a, read=True)
    with pytest.raises(StepError) as caught:
        await renew(fake, ca, tmp_path, [])
    assert caught.value.message == (
        f"certs-renew on {a}: the API server or etcd did not become healthy again after 1s"
    )
    for pod in STATIC_PODS:
        assert fake.file(a, pod.manifest) is not None
    assert fake.changes(b) == []


async def test_a_failing_command_is_raised_as_it_failed(
    fake: FakeRemote, ca: ClusterCA, tmp_path: Path
) -> None:
    """The engine keeps a failed step's own error: the CLI shows it as before (argv, stderr)."""
    a = MASTERS[0]
    fake.on_prefix(["cp", "-a", "--parents"], host=a, exit_status=1, stderr="cp: no space left")
    with pytest.raises(CommandFailed) as caught:
        await renew(fake, ca, tmp_path, [])
    assert caught.value.stderr == "cp: no space left"
    assert not [c for c in fake.changes(a) if isinstance(c, Upload)]
