"""drain, clean, delete-node and remove-member against the fake."""

from __future__ import annotations

from dataclasses import replace

import pytest

from sealer.connect.command import builtin_argv
from sealer.connect.pool import HOME_STAGED_PATTERN, STAGED_PATTERN
from sealer.engine.context import RunContext
from sealer.errors import CommandFailed, StepError
from sealer.facts.cluster import ETCDCTL
from sealer.facts.hosts import render_hosts_block
from sealer.layout import (
    ADMIN_CONF,
    CARE_PROGRAM_PATH,
    CLEAN_PATHS,
    KUBE_BINARIES,
    KUBELET_UNIT,
    UNPACKED_DIR,
    WRITTEN_DIRS,
)
from sealer.lb.clean import clean_plan
from sealer.plan.payloads import CleanPayload, DeleteNodePayload, DrainPayload, RemoveMemberPayload
from sealer.plan.state import LiveHost
from sealer.steps.remove import Clean, DeleteNode, Drain, RemoveMember
from tests.steps.builders import (
    GONE,
    IDS,
    M,
    N,
    cluster,
    etcd,
    hostname,
    hosts_entries,
    make_target,
    member,
    member_remove,
    running,
)
from tests.steps.fake_remote import Call, FakeRemote, Reply

CTX = RunContext()
KUBECTL = ("kubectl", "--kubeconfig", ADMIN_CONF)
RESET = ("kubeadm", "reset", "-f")


def get_node(name: str) -> tuple[str, ...]:
    return (*KUBECTL, "get", "node", "-o", "name", "--ignore-not-found", "--", name)


def drain(name: str) -> tuple[str, ...]:
    return (*KUBECTL, "drain", name, "--ignore-daemonsets", "--delete-emptydir-data", "--force",
            "--timeout=300s")  # fmt: skip


def changed_argv(fake: FakeRemote, host: str | None = None) -> list[tuple[str, ...]]:
    return [c.argv for c in fake.changes(host) if isinstance(c, Call)]


# -- drain ------------------------------------------------------------------------------------


async def test_drain_drains_a_node_of_the_cluster(fake: FakeRemote) -> None:
    name = hostname(N[0])
    fake.on(get_node(name), host=M[0], read=True, stdout=f"node/{name}\n")
    fake.on(drain(name), host=M[0])
    target = make_target(fake, cluster(), running(cluster()))

    assert (await Drain(target, N[0], DrainPayload(name)).run(CTX)).changed

    assert changed_argv(fake) == [drain(name)]
    assert fake.calls[-1].timeout == 600.0


async def test_drain_skips_only_a_node_that_is_not_found(fake: FakeRemote) -> None:
    name = hostname(N[0])
    fake.on(get_node(name), host=M[0], read=True, stdout="")
    target = make_target(fake, cluster(), running(cluster()))

    assert not (await Drain(target, N[0], DrainPayload(name)).run(CTX)).changed
    assert fake.changes() == []


async def test_drain_api_error_fails_the_step(fake: FakeRemote) -> None:
    name = hostname(N[0])
    fake.on(get_node(name), host=M[0], read=True, exit_status=1, stderr="Unauthorized")
    target = make_target(fake, cluster(), running(cluster()))

    with pytest.raises(CommandFailed, match="Unauthorized") as failed:
        await Drain(target, N[0], DrainPayload(name)).run(CTX)

    assert failed.value.host == M[0]
    assert fake.changes() == []


async def test_drain_failure_is_raised(fake: FakeRemote) -> None:
    name = hostname(N[0])
    fake.on(get_node(name), host=M[0], read=True, stdout=f"node/{name}\n")
    fake.on(drain(name), host=M[0], exit_status=1, stderr="Cannot evict pod: PDB")
    target = make_target(fake, cluster(), running(cluster()))

    with pytest.raises(CommandFailed, match="PDB"):
        await Drain(target, N[0], DrainPayload(name)).run(CTX)


# -- delete-node ------------------------------------------------------------------------------


def delete(name: str) -> tuple[str, ...]:
    return (*KUBECTL, "delete", "node", name, "--ignore-not-found")


async def test_delete_node_deletes_and_an_absent_node_is_unchanged(fake: FakeRemote) -> None:
    name = hostname(N[0])
    fake.on(delete(name), host=M[0], stdout=f'node "{name}" deleted\n')
    target = make_target(fake, cluster(), running(cluster()))

    assert (await DeleteNode(target, N[0], DeleteNodePayload(name)).run(CTX)).changed
    assert changed_argv(fake) == [delete(name)]

    fake.on(delete(name), host=M[0], stdout="")
    assert not (await DeleteNode(target, N[0], DeleteNodePayload(name)).run(CTX)).changed


async def test_delete_node_api_error_fails_the_step(fake: FakeRemote) -> None:
    name = hostname(N[0])
    fake.on(delete(name), host=M[0], exit_status=1, stderr="connection refused")
    target = make_target(fake, cluster(), running(cluster()))

    with pytest.raises(CommandFailed, match="connection refused") as failed:
        await DeleteNode(target, N[0], DeleteNodePayload(name)).run(CTX)
    assert failed.value.host == M[0]


# -- clean ------------------------------------------------------------------------------------

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


def script_clean(fake: FakeRemote, host: str, *, installed: bool) -> list[str]:
    """A host with everything installed, or with nothing left; returns its binaries."""
    binaries = [f"/usr/bin/{b}" for b in KUBE_BINARIES]
    script_binaries(fake, host, dict.fromkeys(binaries, OURS) if installed else {})
    fake.on(RESET, host=host)
    status = 0 if installed else 1
    fake.on(["test", "-e", CARE_PROGRAM_PATH], host=host, read=True, exit_status=status)
    fake.on(["test", "-e", KUBELET_UNIT], host=host, read=True, exit_status=status)
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
        ("rm", "-rf", "--", *CLEAN_PATHS, *binaries),
        ("systemctl", "daemon-reload"),
    ]
    assert fake.file(host, "/etc/hosts") == b"127.0.0.1 localhost\n"


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
    script_binaries(fake, host, {**dict.fromkeys(binaries[:2], OURS), binaries[2]: THEIRS})
    target = make_target(fake, cluster(), running(cluster()))

    await Clean(target, host, CleanPayload()).run(CTX)

    removed = [a for a in changed_argv(fake) if a[:2] == ("rm", "-rf")]
    assert removed == [("rm", "-rf", "--", *CLEAN_PATHS, *binaries[:2])]


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
    assert max(health, listed) < removed < fake.index(RESET, host)


async def test_clean_of_a_master_refuses_without_a_quorum_left(fake: FakeRemote) -> None:
    host = M[2]
    script_clean(fake, host, installed=True)
    etcd(fake, M[0], [member(a, IDS[a]) for a in M], unhealthy=[f"https://{M[1]}:2379"])
    target = make_target(fake, cluster(), running(cluster()))

    with pytest.raises(StepError, match="quorum") as failed:
        await Clean(target, host, CleanPayload(remove_etcd_member=True)).run(CTX)

    assert failed.value.host == host
    assert fake.changes() == []


# -- remove-member ----------------------------------------------------------------------------


async def test_remove_member_removes_an_unstarted_member_by_peer_url(fake: FakeRemote) -> None:
    c = cluster()
    live = replace(running(c), extra_hosts={GONE: LiveHost(GONE, reachable=False)})
    members = [*(member(a, IDS[a]) for a in M), member(GONE, IDS[GONE], named=False)]
    etcd(fake, M[0], members)
    fake.on(member_remove(IDS[GONE]), host=M[0])
    target = make_target(fake, c, live)

    assert (await RemoveMember(target, GONE, RemoveMemberPayload()).run(CTX)).changed

    assert changed_argv(fake) == [tuple(member_remove(IDS[GONE]))]
    assert fake.commands(GONE) == []  # the host itself is never asked


async def test_remove_member_without_a_member_changes_nothing(fake: FakeRemote) -> None:
    c = cluster()
    live = replace(running(c), extra_hosts={GONE: LiveHost(GONE, reachable=False)})
    etcd(fake, M[0], [member(a, IDS[a]) for a in M])
    target = make_target(fake, c, live)

    assert not (await RemoveMember(target, GONE, RemoveMemberPayload()).run(CTX)).changed
    assert fake.changes() == []


async def test_remove_member_refuses_without_a_quorum_and_reports_failures(
    fake: FakeRemote,
) -> None:
    c = cluster(masters=M[:2])
    live = replace(running(c), extra_hosts={GONE: LiveHost(GONE, reachable=False)})
    members = [*(member(a, IDS[a]) for a in M[:2]), member(GONE, IDS[GONE])]
    etcd(fake, M[0], members, unhealthy=[f"https://{M[1]}:2379"])
    target = make_target(fake, c, live)

    with pytest.raises(StepError, match="quorum") as refused:
        await RemoveMember(target, GONE, RemoveMemberPayload()).run(CTX)
    assert refused.value.host == GONE and fake.changes() == []

    etcd(fake, M[0], members)
    fake.on(member_remove(IDS[GONE]), host=M[0], exit_status=1, stderr="member not found")
    with pytest.raises(CommandFailed, match="member not found"):
        await RemoveMember(target, GONE, RemoveMemberPayload()).run(CTX)
