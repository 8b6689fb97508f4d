"""clean against the fake: every trace of the install removed, and only what sealer put
there (a kubectl of the host's own stays)."""

from __future__ import annotations

import pytest

from sealer.connect.command import builtin_argv
from sealer.connect.pool import HOME_STAGED_PATTERN, STAGED_PATTERN
from sealer.engine.context import RunContext
from sealer.errors import CommandFailed, StepError
from sealer.etcd_backup.render import BACKUP_PATHS, render_service
from sealer.facts.cluster import ETCDCTL
from sealer.facts.hosts import render_hosts_block
from sealer.layout import (
    BACKUP_SERVICE_PATH,
    BACKUP_TIMER_NAME,
    CARE_PROGRAM_PATH,
    CLEAN_PATHS,
    KUBE_BINARIES,
    KUBELET_UNIT,
    RUNTIME_UNIT,
    UNPACKED_DIR,
    WRITTEN_DIRS,
)
from sealer.lb.clean import clean_plan
from sealer.plan.payloads import CleanPayload
from sealer.steps.clean import Clean
from tests.steps.builders import (
    IDS,
    M,
    N,
    cluster,
    etcd,
    hosts_entries,
    make_target,
    member,
    member_remove,
    running,
)
from tests.steps.fake_remote import Call, FakeRemote, Reply, changed_argv

CTX = RunContext()

RESET = ("kubeadm", "reset", "-f")
# a master whose etcd member sealer removed first: kubeadm's own removal phase is skipped
RESET_MEMBER_REMOVED = (*RESET, "--skip-phases=remove-etcd-member")


FIND = ("find", *WRITTEN_DIRS, ".", "-maxdepth", "1", "-type", "f", "(",
        "-name", STAGED_PATTERN, "-o", "-name", HOME_STAGED_PATTERN, ")")  # fmt: skip


PACKAGED = [f"{UNPACKED_DIR}/bin/{b}" for b in KUBE_BINARIES]
OURS, THEIRS = "1" * 64, "2" * 64


def script_binaries(fake: FakeRemote, host: str, found: dict[str, str]) -> None:
    """``command -v`` finds ``found``'s paths; the package's copies hash to OURS, and each
    found binary to its digest in ``found`` (path -> digest)."""
    paths = list(found)
    for name, path in zip(KUBE_BINARIES, paths or [""] * len(KUBE_BINARIES), strict=True):
        answer = Reply(0, f"{path}\n") if path else Reply(127, "", "")
        fake.on(builtin_argv("command", "-v", name), answer, host=host, read=True)
    if paths:
        sums = "".join(f"{d}  {p}\n" for p, d in found.items())
        sums += "".join(f"{OURS}  {p}\n" for p in PACKAGED)
        fake.on(["sha256sum", "--", *paths, *PACKAGED], host=host, read=True, stdout=sums)


def script_clean(
    fake: FakeRemote, host: str, *, installed: bool, backup: bool = False
) -> list[str]:
    """A host with everything installed, or with nothing left; returns its binaries.
    ``backup``: spec.backup's program, service and timer are there too."""
    fake.on(
        ["ls", "-d", "--", *BACKUP_PATHS],
        host=host,
        read=True,
        stdout="".join(f"{p}\n" for p in BACKUP_PATHS) if backup else "",
        exit_status=0 if backup else 2,
    )
    if backup:
        service = render_service("/srv/etcd-snapshots", 3)
        fake.write(host, BACKUP_SERVICE_PATH, service)
        fake.on(["systemctl", "disable", "--now", BACKUP_TIMER_NAME], host=host)
    binaries = [f"/usr/bin/{b}" for b in KUBE_BINARIES]
    script_binaries(fake, host, dict.fromkeys(binaries, OURS) if installed else {})
    fake.on(RESET, host=host)
    fake.on(RESET_MEMBER_REMOVED, host=host)
    status = 0 if installed else 1
    fake.on(["test", "-e", CARE_PROGRAM_PATH], host=host, read=True, exit_status=status)
    fake.on(["test", "-e", KUBELET_UNIT], host=host, read=True, exit_status=status)
    fake.on(["test", "-e", RUNTIME_UNIT], host=host, read=True, exit_status=status)
    plan = clean_plan(program_present=installed, vip=cluster().spec.vip)
    for command in (*plan.before, *plan.after):
        fake.on(command.argv, host=host, exit_status=status)
    for paths in (plan.paths, CLEAN_PATHS):
        listed = "".join(f"{p}\n" for p in paths) if installed else ""
        fake.on(
            ["ls", "-d", "--", *paths],
            host=host,
            read=True,
            stdout=listed,
            exit_status=0 if installed else 2,
        )
    fake.on_prefix(["rm"], host=host)
    fake.on(["systemctl", "disable", "--now", "kubelet"], host=host)
    fake.on(["systemctl", "disable", "--now", "containerd"], host=host)
    fake.on(["systemctl", "daemon-reload"], host=host)
    fake.on(FIND, host=host, read=True)
    block = render_hosts_block(list(hosts_entries(M[0]))) if installed else ""
    fake.write(host, "/etc/hosts", "127.0.0.1 localhost\n" + block)
    return binaries


async def test_clean_removes_every_trace_in_order(fake: FakeRemote) -> None:
    host = N[0]
    binaries = script_clean(fake, host, installed=True)
    target = make_target(fake, cluster(), running(cluster()))

    outcome = await Clean(target, host, CleanPayload()).run(CTX)

    assert outcome.changed
    plan = clean_plan(program_present=True, vip=cluster().spec.vip)
    assert changed_argv(fake) == [
        RESET,
        *(c.argv for c in plan.before),
        ("rm", "-f", "--", *plan.paths),
        *(c.argv for c in plan.after),
        ("systemctl", "disable", "--now", "kubelet"),
        ("systemctl", "disable", "--now", "containerd"),  # the runtime init.sh started
        ("rm", "-rf", "--", *CLEAN_PATHS, *binaries),
        ("systemctl", "daemon-reload"),
    ]
    assert fake.file(host, "/etc/hosts") == b"127.0.0.1 localhost\n"


async def test_clean_of_a_master_with_a_scheduled_backup_stops_the_timer_first(
    fake: FakeRemote,
) -> None:
    """spec.backup's timer goes before kubeadm reset (no snapshot of an etcd being reset);
    the snapshots stay, and the outcome says where."""
    host = M[1]
    binaries = script_clean(fake, host, installed=True, backup=True)
    target = make_target(fake, cluster(), running(cluster()))

    outcome = await Clean(target, host, CleanPayload()).run(CTX)

    plan = clean_plan(program_present=True, vip=cluster().spec.vip)
    assert changed_argv(fake) == [
        ("systemctl", "disable", "--now", BACKUP_TIMER_NAME),
        ("rm", "-f", "--", *BACKUP_PATHS),
        ("systemctl", "daemon-reload"),
        RESET,
        *(c.argv for c in plan.before),
        ("rm", "-f", "--", *plan.paths),
        *(c.argv for c in plan.after),
        ("systemctl", "disable", "--now", "kubelet"),
        ("systemctl", "disable", "--now", "containerd"),
        ("rm", "-rf", "--", *CLEAN_PATHS, *binaries),
        ("systemctl", "daemon-reload"),
    ]
    assert "the snapshots stay in /srv/etcd-snapshots" in outcome.reason


async def test_clean_of_a_clean_host_removes_nothing(fake: FakeRemote) -> None:
    host = N[0]
    script_clean(fake, host, installed=False)
    target = make_target(fake, cluster(), running(cluster()))

    outcome = await Clean(target, host, CleanPayload()).run(CTX)

    assert not outcome.changed
    assert fake.uploads == []
    # what still runs is the load balancer's best-effort stop and rule deletion, each of
    # which failed ("already gone"): no reset, no rm
    best_effort = clean_plan(program_present=False, vip=cluster().spec.vip).before
    assert changed_argv(fake) == [c.argv for c in best_effort]
    assert all(c.exit_status != 0 for c in fake.changes() if isinstance(c, Call))


async def test_clean_leaves_a_kubectl_the_package_did_not_install(fake: FakeRemote) -> None:
    host = N[0]
    binaries = script_clean(fake, host, installed=True)
    # the host's kubectl is a distribution's (other bytes than the package's copy)
    script_binaries(fake, host, {**dict.fromkeys(binaries, OURS), binaries[2]: THEIRS})
    target = make_target(fake, cluster(), running(cluster()))

    await Clean(target, host, CleanPayload()).run(CTX)

    removed = [a for a in changed_argv(fake) if a[:2] == ("rm", "-rf")]
    assert binaries[2] == "/usr/bin/kubectl"
    assert removed == [("rm", "-rf", "--", *CLEAN_PATHS, *binaries[:2], *binaries[3:])]


async def test_clean_of_a_host_with_its_own_kubectl_only_removes_nothing(
    fake: FakeRemote,
) -> None:
    host = N[0]
    script_clean(fake, host, installed=False)
    # a workstation-like host: kubectl in /usr/bin, no package (its copies are missing)
    fake.on(
        builtin_argv("command", "-v", "kubectl"), host=host, read=True, stdout="/usr/bin/kubectl\n"
    )
    fake.on(
        ["sha256sum", "--", "/usr/bin/kubectl", f"{UNPACKED_DIR}/bin/kubectl"],
        host=host,
        read=True,
        stdout=f"{THEIRS}  /usr/bin/kubectl\n",
        stderr=f"sha256sum: {UNPACKED_DIR}/bin/kubectl: No such file or directory\n",
        exit_status=1,
    )
    target = make_target(fake, cluster(), running(cluster()))

    outcome = await Clean(target, host, CleanPayload()).run(CTX)

    assert not outcome.changed
    assert not any(a[0] == "rm" for a in changed_argv(fake))


async def test_clean_stops_when_kubeadm_reset_fails(fake: FakeRemote) -> None:
    host = N[0]
    script_clean(fake, host, installed=True)
    fake.on(RESET, host=host, exit_status=1, stderr="unmount failed")
    target = make_target(fake, cluster(), running(cluster()))

    with pytest.raises(CommandFailed, match="unmount failed") as failed:
        await Clean(target, host, CleanPayload()).run(CTX)

    assert failed.value.host == host
    assert changed_argv(fake) == [RESET]
    assert fake.uploads == []


async def test_clean_of_a_master_removes_its_member_before_the_reset(fake: FakeRemote) -> None:
    host = M[2]
    script_clean(fake, host, installed=True)
    etcd(fake, M[0], [member(a, IDS[a]) for a in M])
    fake.on(member_remove(IDS[host]), host=M[0])
    target = make_target(fake, cluster(), running(cluster()))

    outcome = await Clean(target, host, CleanPayload(remove_etcd_member=True)).run(CTX)

    assert outcome.reason.startswith("etcd member removed")
    health = fake.index((*ETCDCTL, "endpoint", "health", "--cluster", "-w", "json"), M[0])
    listed = fake.index((*ETCDCTL, "member", "list", "-w", "json"), M[0])
    removed = fake.index(member_remove(IDS[host]), M[0])
    assert max(health, listed) < removed < fake.index(RESET_MEMBER_REMOVED, host)
    assert RESET not in changed_argv(fake)


async def test_clean_of_a_master_refuses_without_a_quorum_left(fake: FakeRemote) -> None:
    host = M[2]
    script_clean(fake, host, installed=True)
    etcd(fake, M[0], [member(a, IDS[a]) for a in M], unhealthy=[f"https://{M[1]}:2379"])
    target = make_target(fake, cluster(), running(cluster()))

    with pytest.raises(StepError, match="quorum") as failed:
        await Clean(target, host, CleanPayload(remove_etcd_member=True)).run(CTX)

    assert failed.value.host == host
    assert fake.changes() == []
