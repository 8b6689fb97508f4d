"""distribute, install, hosts, ipvs, identity and snapshot against the fake: facts in, argv and
uploads out; the in-shape path changes nothing; a failing command stops the step."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path

import pytest

from sealer.connect import TransferFailed
from sealer.engine.context import RunContext
from sealer.errors import CommandFailed, StepError
from sealer.facts.cluster import ETCDCTL
from sealer.facts.hosts import render_hosts_block
from sealer.facts.identity import cluster_identity_configmap
from sealer.kube.pki import ClusterCA
from sealer.layout import (
    CARE_CA_PATH,
    CARE_CONFIG_PATH,
    CARE_PROGRAM_PATH,
    CARE_UNIT_NAME,
    CARE_UNIT_PATH,
    CLUSTER_IDENTITY,
    INIT_MARKER,
    PACKAGE_DIR,
    PYTHON_PATH,
    SNAPSHOT_DIR,
    UNPACKED_DIR,
)
from sealer.lb.render import install_files
from sealer.plan.lb import desired_lb_config
from sealer.plan.payloads import (
    DistributePayload,
    HostsPayload,
    IdentityPayload,
    InstallPayload,
    SnapshotPayload,
)
from sealer.steps.distribute import Distribute
from sealer.steps.hosts import Hosts
from sealer.steps.identity import Identity
from sealer.steps.install import PACKAGE_TIMEOUT, Install, unpack_argv
from sealer.steps.lb import LoadBalancer
from sealer.steps.snapshot import Snapshot
from tests.steps.builders import (
    CRICTL_INFO,
    IDENTITY,
    OTHER,
    VERSION,
    M,
    N,
    cluster,
    configmap,
    fresh,
    hosts_entries,
    lb_payload,
    ls,
    make_target,
    mv,
    package,
    rm,
    running,
    runtime,
    sha256sum,
)
from tests.steps.fake_remote import Call, FakeRemote, Reply, Upload

CTX = RunContext()
HOST = N[0]
KUBEADM_VERSION = ["kubeadm", "version", "-o", "short"]
ETC_HOSTS = "127.0.0.1 localhost\n"


# -- distribute and install -------------------------------------------------------------------


def script_distribute(fake: FakeRemote, remote: str) -> None:
    fake.on(["mkdir", "-p", PACKAGE_DIR])
    fake.on(["sha256sum", remote], sha256sum, read=True)


def script_install(
    fake: FakeRemote, remote: str, versions: list[Reply], *, runtime_answers: bool = True
) -> None:
    runtime(fake, HOST, runtime_answers)
    fake.on(["sha256sum", remote], sha256sum, read=True)
    fake.on(KUBEADM_VERSION, versions, read=True)
    fake.on(["rm", "-rf", UNPACKED_DIR])

    def untar(f: FakeRemote, call: Call) -> Reply:
        f.write(call.host, f"{UNPACKED_DIR}/Metadata", json.dumps({"k8sVersion": VERSION}))
        return Reply()

    fake.on(unpack_argv(remote), untar)
    fake.on(["chmod", "-R", "go-w", "--", UNPACKED_DIR])
    fake.on(["bash", "init.sh"])


async def test_distribute_copies_and_verifies(fake: FakeRemote, tmp_path: Path) -> None:
    pkg = package(tmp_path)
    remote = f"{PACKAGE_DIR}/{pkg.name}"
    script_distribute(fake, remote)
    target = make_target(fake, cluster(), fresh(cluster()), package_or_none=pkg)

    outcome = await Distribute(target, HOST, DistributePayload()).run(CTX)

    assert outcome.changed and outcome.reason == "copied from the workstation"
    assert [c.argv for c in fake.changes() if isinstance(c, Call)] == [("mkdir", "-p", PACKAGE_DIR)]
    assert fake.uploads == [Upload(HOST, remote, b"the package", 0o644)]
    assert fake.commands()[-1] == ("sha256sum", remote)  # checked after the copy


async def test_distribute_in_shape_copies_nothing(fake: FakeRemote, tmp_path: Path) -> None:
    pkg = package(tmp_path)
    remote = f"{PACKAGE_DIR}/{pkg.name}"
    fake.write(HOST, remote, b"the package")
    script_distribute(fake, remote)
    target = make_target(fake, cluster(), fresh(cluster()), package_or_none=pkg)

    outcome = await Distribute(target, HOST, DistributePayload()).run(CTX)

    assert not outcome.changed
    # `mkdir -p` of a directory that exists is the only command that is not a read
    assert fake.changes() == [Call(HOST, ("mkdir", "-p", PACKAGE_DIR), True, exit_status=0)]


async def test_distribute_removes_a_copy_with_the_wrong_sha256(
    fake: FakeRemote, tmp_path: Path
) -> None:
    pkg = package(tmp_path)
    remote = f"{PACKAGE_DIR}/{pkg.name}"
    script_distribute(fake, remote)
    fake.on(["sha256sum", remote], read=True, stdout=f"{'0' * 64}  {remote}\n")  # corrupted
    fake.on(["rm", "-f", remote])
    target = make_target(fake, cluster(), fresh(cluster()), package_or_none=pkg)

    with pytest.raises(StepError, match="sha256") as failed:
        await Distribute(target, HOST, DistributePayload()).run(CTX)

    assert failed.value.host == HOST
    assert fake.commands()[-1] == ("rm", "-f", remote)


async def test_install_unpacks_checks_and_installs_a_new_copy(
    fake: FakeRemote, tmp_path: Path
) -> None:
    pkg = package(tmp_path)
    remote = f"{PACKAGE_DIR}/{pkg.name}"
    fake.write(HOST, remote, b"the package")
    # the binaries already report the version: a copy made in this run is installed anyway
    script_install(fake, remote, [Reply(0, f"{VERSION}\n")])
    target = make_target(fake, cluster(), fresh(cluster()), package_or_none=pkg)

    outcome = await Install(target, HOST, InstallPayload(new_copy=True)).run(CTX)

    assert outcome.changed
    assert [c.argv for c in fake.changes() if isinstance(c, Call)] == [
        ("rm", "-rf", UNPACKED_DIR),
        ("tar", "--no-same-owner", "--no-same-permissions", "-xzf", remote, "-C", PACKAGE_DIR),
        ("chmod", "-R", "go-w", "--", UNPACKED_DIR),
        ("bash", "init.sh"),
    ]
    assert fake.uploads == []
    assert fake.index(["sha256sum", remote]) < fake.index(unpack_argv(remote))
    init = next(c for c in fake.calls if c.argv == ("bash", "init.sh"))
    assert init.cwd == f"{UNPACKED_DIR}/shell" and init.timeout == PACKAGE_TIMEOUT
    # the runtime init.sh started is asked last, on the kubelet's endpoint
    assert fake.commands()[-1] == CRICTL_INFO


async def test_install_names_a_runtime_that_does_not_answer_after_init_sh(
    fake: FakeRemote, tmp_path: Path
) -> None:
    pkg = package(tmp_path)
    remote = f"{PACKAGE_DIR}/{pkg.name}"
    fake.write(HOST, remote, b"the package")
    script_install(fake, remote, [Reply(127), Reply(0, f"{VERSION}\n")], runtime_answers=False)
    target = make_target(fake, cluster(), fresh(cluster()), package_or_none=pkg)

    with pytest.raises(StepError) as failed:
        await Install(target, HOST, InstallPayload(new_copy=True)).run(CTX)

    assert failed.value.host == HOST
    assert str(failed.value) == (
        f"install on {HOST}: the container runtime does not answer on "
        "unix:///run/containerd/containerd.sock (validate service connection: validate CRI v1 "
        'runtime API for endpoint "unix:///run/containerd/containerd.sock": rpc error: code = '
        'Unavailable desc = connection error: desc = "transport: Error while dialing: dial unix '
        '/run/containerd/containerd.sock: connect: no such file or directory"); the kubelet '
        "cannot start without it, so kubeadm was not run. The package's init.sh installs and "
        f"starts the runtime: see `systemctl status containerd` and `journalctl -u containerd` "
        f"on {HOST}, then run apply again"
    )
    commands = fake.commands()
    assert commands.index(("bash", "init.sh")) < commands.index(CRICTL_INFO)


async def test_install_in_shape_installs_nothing(fake: FakeRemote, tmp_path: Path) -> None:
    pkg = package(tmp_path)
    remote = f"{PACKAGE_DIR}/{pkg.name}"
    script_install(fake, remote, [Reply(0, f"{VERSION}\n")])
    target = make_target(fake, cluster(), fresh(cluster()), package_or_none=pkg)

    outcome = await Install(target, HOST, InstallPayload()).run(CTX)

    assert not outcome.changed
    assert fake.changes() == []
    # an installed host's runtime is asked by init and the joins, not on every apply
    assert CRICTL_INFO not in fake.commands()


async def test_install_refuses_a_copy_with_the_wrong_sha256(
    fake: FakeRemote, tmp_path: Path
) -> None:
    pkg = package(tmp_path)
    remote = f"{PACKAGE_DIR}/{pkg.name}"
    fake.write(HOST, remote, b"another package")
    script_install(fake, remote, [Reply(127)])
    target = make_target(fake, cluster(), fresh(cluster()), package_or_none=pkg)

    with pytest.raises(StepError, match="run apply again to copy it") as failed:
        await Install(target, HOST, InstallPayload()).run(CTX)

    assert failed.value.host == HOST
    assert fake.changes() == []  # nothing unpacked


async def test_install_stops_when_unpacking_fails(fake: FakeRemote, tmp_path: Path) -> None:
    pkg = package(tmp_path)
    remote = f"{PACKAGE_DIR}/{pkg.name}"
    fake.write(HOST, remote, b"the package")
    script_install(fake, remote, [Reply(127)])
    fake.on(unpack_argv(remote), exit_status=2, stderr="not in gzip format")
    target = make_target(fake, cluster(), fresh(cluster()), package_or_none=pkg)

    with pytest.raises(CommandFailed, match="not in gzip format") as failed:
        await Install(target, HOST, InstallPayload(new_copy=True)).run(CTX)

    assert failed.value.host == HOST
    assert fake.commands()[-1][0] == "tar"  # no Metadata read, no init.sh
    assert ("read", HOST, f"{UNPACKED_DIR}/Metadata") not in fake.log


SUMS_CHECK = ("sha256sum", "--check", "--strict", "--quiet", "-")


async def test_install_checks_the_metadata_sums_after_unpacking(
    fake: FakeRemote, tmp_path: Path
) -> None:
    pkg = replace(package(tmp_path), sha256sums=(("bin/kubeadm", "a" * 64), ("Metadata", "b" * 64)))
    remote = f"{PACKAGE_DIR}/{pkg.name}"
    fake.write(HOST, remote, b"the package")
    script_install(fake, remote, [Reply(127), Reply(0, f"{VERSION}\n")])
    fake.on(SUMS_CHECK, read=True)
    target = make_target(fake, cluster(), fresh(cluster()), package_or_none=pkg)

    await Install(target, HOST, InstallPayload(new_copy=True)).run(CTX)

    check = next(c for c in fake.calls if c.argv == SUMS_CHECK)
    assert check.cwd == UNPACKED_DIR
    assert check.input == f"{'b' * 64}  Metadata\n{'a' * 64}  bin/kubeadm\n"
    commands = fake.commands()
    assert commands.index(SUMS_CHECK) < commands.index(("bash", "init.sh"))


async def test_install_refuses_files_that_differ_from_the_metadata_sums(
    fake: FakeRemote, tmp_path: Path
) -> None:
    pkg = replace(package(tmp_path), sha256sums=(("bin/kubeadm", "a" * 64),))
    remote = f"{PACKAGE_DIR}/{pkg.name}"
    fake.write(HOST, remote, b"the package")
    script_install(fake, remote, [Reply(127)])
    failed_line = "bin/kubeadm: FAILED\n"
    fake.on(SUMS_CHECK, read=True, exit_status=1, stdout=failed_line)
    target = make_target(fake, cluster(), fresh(cluster()), package_or_none=pkg)

    with pytest.raises(StepError, match="bin/kubeadm: FAILED") as failed:
        await Install(target, HOST, InstallPayload(new_copy=True)).run(CTX)

    assert "sha256sums of its Metadata" in str(failed.value)
    assert ("bash", "init.sh") not in fake.commands()


# -- hosts ------------------------------------------------------------------------------------


async def test_hosts_writes_the_block_and_then_is_in_shape(fake: FakeRemote) -> None:
    fake.write(HOST, "/etc/hosts", ETC_HOSTS)
    target = make_target(fake, cluster(), fresh(cluster()))
    step = Hosts(target, HOST, HostsPayload(hosts_entries(M[0])))

    assert (await step.run(CTX)).changed
    expected = ETC_HOSTS + render_hosts_block(list(hosts_entries(M[0])))
    assert fake.uploads == [Upload(HOST, "/etc/hosts", expected.encode(), 0o644)]
    assert fake.calls == []  # read and written over SFTP, no command

    again = await step.run(CTX)
    assert not again.changed and len(fake.uploads) == 1


async def test_hosts_upload_failure_is_raised_and_leaves_the_file(fake: FakeRemote) -> None:
    fake.write(HOST, "/etc/hosts", ETC_HOSTS)
    fake.put_failures[(HOST, "/etc/hosts")] = TransferFailed(HOST, "/etc/hosts", "denied")
    target = make_target(fake, cluster(), fresh(cluster()))

    with pytest.raises(TransferFailed, match="denied"):
        await Hosts(target, HOST, HostsPayload(hosts_entries(M[0]))).run(CTX)

    assert fake.file(HOST, "/etc/hosts") == ETC_HOSTS.encode()


# -- ipvs (the load balancer) -----------------------------------------------------------------

RUN_ONCE = (PYTHON_PATH, CARE_PROGRAM_PATH, "--run-once", "--config", CARE_CONFIG_PATH)
LB_PATHS = [CARE_PROGRAM_PATH, CARE_CA_PATH, CARE_CONFIG_PATH, CARE_UNIT_PATH]


def script_lb(fake: FakeRemote, active: int) -> None:
    fake.on_prefix(["mkdir", "-p"])
    fake.on(["systemctl", "is-active", CARE_UNIT_NAME], read=True, exit_status=active)
    fake.on(RUN_ONCE)
    fake.on(["systemctl", "daemon-reload"])
    fake.on(["systemctl", "enable", "--now", CARE_UNIT_NAME])
    fake.on(["systemctl", "restart", CARE_UNIT_NAME])


async def test_ipvs_installs_files_makes_the_rules_then_starts_the_daemon(
    fake: FakeRemote, ca: ClusterCA
) -> None:
    script_lb(fake, active=3)
    target = make_target(fake, cluster(), fresh(cluster()), ca)

    outcome = await LoadBalancer(target, HOST, lb_payload(target.cluster)).run(CTX)

    assert outcome.changed
    assert [(u.path, u.mode) for u in fake.uploads] == [
        (CARE_PROGRAM_PATH, 0o755),
        (CARE_CA_PATH, 0o644),
        (CARE_CONFIG_PATH, 0o644),
        (CARE_UNIT_PATH, 0o644),
    ]
    assert fake.file(HOST, CARE_CONFIG_PATH) == desired_lb_config(cluster()).encode()
    assert [c.argv for c in fake.changes() if isinstance(c, Call) and c.argv[0] != "mkdir"] == [
        RUN_ONCE,
        ("systemctl", "daemon-reload"),
        ("systemctl", "enable", "--now", CARE_UNIT_NAME),
    ]


async def test_ipvs_in_shape_changes_nothing(fake: FakeRemote, ca: ClusterCA) -> None:
    for item in install_files(desired_lb_config(cluster()), ca.ca.cert_pem()):
        fake.write(HOST, item.path, item.content, item.mode)
    script_lb(fake, active=0)
    target = make_target(fake, cluster(), running(cluster()), ca)

    outcome = await LoadBalancer(target, HOST, lb_payload(target.cluster)).run(CTX)

    assert not outcome.changed
    assert fake.changes() == []


async def test_ipvs_new_masters_restart_the_running_daemon(fake: FakeRemote, ca: ClusterCA) -> None:
    for item in install_files(desired_lb_config(cluster()), ca.ca.cert_pem()):
        fake.write(HOST, item.path, item.content, item.mode)
    script_lb(fake, active=0)
    fewer = cluster(masters=M[:2])
    target = make_target(fake, fewer, running(fewer), ca)

    assert (await LoadBalancer(target, HOST, lb_payload(target.cluster)).run(CTX)).changed

    assert [u.path for u in fake.uploads] == [CARE_CONFIG_PATH]
    assert RUN_ONCE not in fake.commands()  # the daemon keeps its rules across the restart
    assert fake.commands()[-1] == ("systemctl", "restart", CARE_UNIT_NAME)


async def test_ipvs_stops_when_the_rules_cannot_be_made(fake: FakeRemote, ca: ClusterCA) -> None:
    script_lb(fake, active=3)
    fake.on(RUN_ONCE, exit_status=1, stderr="ipvsadm: not found")
    target = make_target(fake, cluster(), fresh(cluster()), ca)

    with pytest.raises(CommandFailed, match="ipvsadm") as failed:
        await LoadBalancer(target, HOST, lb_payload(target.cluster)).run(CTX)

    assert failed.value.host == HOST
    assert fake.commands()[-1] == RUN_ONCE  # the daemon is not enabled


# -- identity ---------------------------------------------------------------------------------

CREATE_PREFIX = ["kubectl", "--kubeconfig", "/etc/kubernetes/admin.conf", "--namespace"]


def script_identity(fake: FakeRemote, host: str) -> None:
    fake.on(["mkdir", "-p", "/var/lib/sealer"], host=host)
    fake.on(["rm", "-f", INIT_MARKER], host=host)


async def test_identity_in_cluster_creates_the_configmap_then_writes_the_file(
    fake: FakeRemote,
) -> None:
    host = M[0]
    script_identity(fake, host)
    configmap(fake, host, None)
    fake.on_prefix([*CREATE_PREFIX, "kube-system", "create"], host=host)
    target = make_target(fake, cluster(), running(cluster()))

    assert (await Identity(target, host, IdentityPayload(in_cluster=True)).run(CTX)).changed

    create = next(c.argv for c in fake.changes() if isinstance(c, Call))
    assert create[4:] == (
        "kube-system", "create", "configmap", "sealer-cluster",
        f"--from-literal=created={IDENTITY.created}",
        "--from-literal=name=t",
        f"--from-literal=uid={IDENTITY.uid}",
    )  # fmt: skip
    assert fake.uploads == [Upload(host, CLUSTER_IDENTITY, IDENTITY.to_json(), 0o644)]
    assert fake.index(["rm", "-f", INIT_MARKER]) > fake.log.index(fake.uploads[0])


async def test_identity_with_the_same_configmap_creates_nothing(fake: FakeRemote) -> None:
    host = M[0]
    script_identity(fake, host)
    configmap(fake, host, IDENTITY)
    target = make_target(fake, cluster(), running(cluster()))

    await Identity(target, host, IdentityPayload(in_cluster=True)).run(CTX)

    assert not any("create" in c.argv for c in fake.calls)
    assert [u.path for u in fake.uploads] == [CLUSTER_IDENTITY]


async def test_identity_refuses_a_configmap_of_another_cluster(fake: FakeRemote) -> None:
    host = M[0]
    script_identity(fake, host)
    configmap(fake, host, OTHER)
    target = make_target(fake, cluster(), running(cluster()))

    with pytest.raises(StepError, match=OTHER.uid) as failed:
        await Identity(target, host, IdentityPayload(in_cluster=True)).run(CTX)

    assert failed.value.host == host
    assert fake.changes() == []  # nothing created, no identity file


async def test_identity_create_failure_fails_the_step(fake: FakeRemote) -> None:
    host = M[0]
    script_identity(fake, host)
    configmap(fake, host, None)
    fake.on_prefix(
        [*CREATE_PREFIX, "kube-system", "create"], host=host, exit_status=1, stderr="Forbidden"
    )
    target = make_target(fake, cluster(), running(cluster()))

    with pytest.raises(CommandFailed, match="Forbidden"):
        await Identity(target, host, IdentityPayload(in_cluster=True)).run(CTX)

    assert fake.uploads == []
    assert cluster_identity_configmap.argv in fake.commands()


# -- snapshot ---------------------------------------------------------------------------------

STATUS = {"hash": 3280519337, "revision": 1187, "totalKey": 642, "totalSize": 3997696}
OLD = [f"etcd-t-2025010{i}T000000Z.db" for i in range(1, 7)]  # six older snapshots


def script_snapshot(fake: FakeRemote, host: str, status: dict[str, int] = STATUS) -> None:
    def save(f: FakeRemote, call: Call) -> Reply:
        f.write(call.host, call.argv[-1], b"etcd snapshot bytes", 0o600)
        return Reply()

    fake.on(["mkdir", "-p", "-m", "0700", "--", SNAPSHOT_DIR], host=host)
    fake.on_prefix([*ETCDCTL, "snapshot", "save"], save, host=host)
    fake.on_prefix(
        [*ETCDCTL, "snapshot", "status"], host=host, read=True, stdout=json.dumps(status)
    )
    fake.on_prefix(["mv", "-f", "--"], mv, host=host)
    fake.on_prefix(["sha256sum", "--"], sha256sum, host=host, read=True)
    fake.on(["ls", "-1", "--", SNAPSHOT_DIR], ls, host=host, read=True)
    fake.on_prefix(["rm", "-f", "--"], rm, host=host)
    for name in OLD:
        fake.write(host, f"{SNAPSHOT_DIR}/{name}", b"old")


async def test_snapshot_saves_checks_rotates_and_copies_with_its_sha256(
    fake: FakeRemote, tmp_path: Path
) -> None:
    host = M[0]
    script_snapshot(fake, host)
    local_dir = tmp_path / "snaps"
    target = make_target(fake, cluster(), running(cluster()), snapshot_dir_or_none=local_dir)

    outcome = await Snapshot(target, host, SnapshotPayload()).run(CTX)

    assert outcome.changed and "642 keys" in outcome.reason
    kept = fake.listdir(host, SNAPSHOT_DIR)
    assert len(kept) == 5 and kept[:4] == OLD[2:]  # the two oldest went, the new one is kept
    assert ("rm", "-f", "--", *(f"{SNAPSHOT_DIR}/{n}" for n in OLD[:2])) in fake.commands()
    new = kept[-1]
    assert new.startswith("etcd-t-") and new.endswith(".db")
    local = local_dir / new
    assert local.read_bytes() == b"etcd snapshot bytes"
    assert local.stat().st_mode & 0o777 == 0o600
    assert os.stat(local_dir).st_mode & 0o777 == 0o700
    sha = (local_dir / f"{new}.sha256").read_text().split()[0]
    assert f"sha256 {sha}" in outcome.reason
    save = next(c for c in fake.calls if "save" in c.argv)
    assert save.argv[-1] == f"{SNAPSHOT_DIR}/.{new}.part"  # saved under a temporary name


async def test_snapshot_without_keys_is_refused_and_not_kept(
    fake: FakeRemote, tmp_path: Path
) -> None:
    host = M[0]
    script_snapshot(fake, host, {**STATUS, "totalKey": 0})
    target = make_target(fake, cluster(), running(cluster()), snapshot_dir_or_none=tmp_path)

    with pytest.raises(StepError, match="no keys") as failed:
        await Snapshot(target, host, SnapshotPayload()).run(CTX)

    assert failed.value.host == host
    assert not any(c.argv[0] in ("mv", "rm") for c in fake.calls)
    assert list(tmp_path.iterdir()) == []


async def test_snapshot_copy_that_differs_is_removed(fake: FakeRemote, tmp_path: Path) -> None:
    host = M[0]
    script_snapshot(fake, host)
    fake.on_prefix(["sha256sum", "--"], host=host, read=True, stdout=f"{'1' * 64}  x\n")
    target = make_target(fake, cluster(), running(cluster()), snapshot_dir_or_none=tmp_path)

    with pytest.raises(StepError, match="differs"):
        await Snapshot(target, host, SnapshotPayload()).run(CTX)

    assert list(tmp_path.iterdir()) == []


async def test_snapshot_save_failure_stops_the_step(fake: FakeRemote, tmp_path: Path) -> None:
    host = M[0]
    script_snapshot(fake, host)
    fake.on_prefix(
        [*ETCDCTL, "snapshot", "save"], host=host, exit_status=1, stderr="context deadline"
    )
    target = make_target(fake, cluster(), running(cluster()), snapshot_dir_or_none=tmp_path)

    with pytest.raises(CommandFailed, match="context deadline") as failed:
        await Snapshot(target, host, SnapshotPayload()).run(CTX)

    assert failed.value.host == host
    assert fake.commands()[-1][len(ETCDCTL) :][:2] == ("snapshot", "save")
