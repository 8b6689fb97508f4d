"""init, join-master and join-node against the fake, with the safety rules that guard
`kubeadm reset`: never over unexpected cluster state, never before etcd was checked."""

from __future__ import annotations

from dataclasses import replace

import pytest

from sealer.engine.context import RunContext
from sealer.errors import CommandFailed, StepError
from sealer.facts.cluster import ETCDCTL
from sealer.kube.pki import ClusterCA
from sealer.layout import (
    ADMIN_CONF,
    APISERVER_MANIFEST,
    CARE_CONFIG_PATH,
    CARE_PROGRAM_PATH,
    CLUSTER_IDENTITY,
    ETCD_DATA,
    ETCD_MANIFEST,
    INIT_MARKER,
    KUBEADM_CONFIG_PATH,
    KUBEADM_RUN_CONFIG_PATH,
    KUBELET_CONF,
    PYTHON_PATH,
    USER_KUBECONFIG,
)
from sealer.plan.payloads import InitPayload, JoinNodePayload
from sealer.steps.control_plane import KUBEADM_TIMEOUT, Init, JoinMaster, JoinNode
from tests.steps.builders import (
    IDS,
    M,
    N,
    cluster,
    configmap,
    etcd,
    fresh,
    hostname,
    join_credentials,
    joining,
    kube_files,
    make_target,
    member,
    member_remove,
    readyz,
    running,
)
from tests.steps.fake_remote import Call, FakeRemote

CTX = RunContext()
RESET = ("kubeadm", "reset", "-f")
INSTALL_KUBECONFIG = ("install", "-m", "0600", ADMIN_CONF, USER_KUBECONFIG)
RM_RUN_CONFIG = ("rm", "-f", KUBEADM_RUN_CONFIG_PATH)
MASTER_STATE = (APISERVER_MANIFEST, ETCD_MANIFEST, ETCD_DATA, ADMIN_CONF)


def changed_argv(fake: FakeRemote, host: str | None = None) -> list[tuple[str, ...]]:
    """The commands that are not reads, without the `mkdir -p` of parent directories."""
    return [
        c.argv for c in fake.changes(host) if isinstance(c, Call) and c.argv[:2] != ("mkdir", "-p")
    ]


def script_host(fake: FakeRemote, host: str) -> None:
    """What every kubeadm run does on its host besides kubeadm itself."""
    fake.on_prefix(["mkdir", "-p"], host=host)
    fake.on(RM_RUN_CONFIG, host=host)
    fake.on(RESET, host=host)
    fake.on(["rm", "-f", INIT_MARKER], host=host)


# -- init -------------------------------------------------------------------------------------

INIT = ("kubeadm", "init", "--upload-certs", "--config", KUBEADM_RUN_CONFIG_PATH)


def script_init(fake: FakeRemote, host: str, *present: str) -> None:
    script_host(fake, host)
    readyz(fake, host, 1)
    kube_files(fake, host, *present)
    fake.on(INIT, host=host)
    fake.on(INSTALL_KUBECONFIG, host=host)
    configmap(fake, host, None)
    fake.on_prefix(["kubectl", "--kubeconfig", ADMIN_CONF, "--namespace"], host=host)


async def test_init_writes_the_marker_pki_and_config_then_runs_kubeadm_init(
    fake: FakeRemote, ca: ClusterCA
) -> None:
    host = M[0]
    script_init(fake, host)
    target = make_target(fake, cluster(), fresh(cluster()), ca)

    outcome = await Init(target, host, InitPayload()).run(CTX)

    assert outcome.changed
    commands = changed_argv(fake)
    assert commands[:3] == [INIT, RM_RUN_CONFIG, INSTALL_KUBECONFIG]
    assert commands[3][5:8] == ("create", "configmap", "sealer-cluster")
    assert commands[4:] == [("rm", "-f", INIT_MARKER)]
    assert next(c for c in fake.calls if c.argv == INIT).timeout == KUBEADM_TIMEOUT
    uploads = fake.uploads
    assert (uploads[0].path, uploads[-1].path) == (INIT_MARKER, CLUSTER_IDENTITY)
    modes = {u.path: u.mode for u in uploads}
    assert modes["/etc/kubernetes/pki/ca.key"] == 0o600
    assert modes["/etc/kubernetes/pki/ca.crt"] == 0o644
    assert modes[KUBEADM_CONFIG_PATH] == modes[KUBEADM_RUN_CONFIG_PATH] == 0o600
    # the marker is written before kubeadm starts, the identity only after it finished
    kubeadm_at = fake.index(INIT)
    assert fake.log.index(uploads[0]) < kubeadm_at < fake.log.index(uploads[-1])
    assert RESET not in fake.commands()


async def test_init_on_a_running_control_plane_changes_nothing(
    fake: FakeRemote, ca: ClusterCA
) -> None:
    readyz(fake, M[0], 0)
    target = make_target(fake, cluster(), running(cluster()), ca)

    assert not (await Init(target, M[0], InitPayload()).run(CTX)).changed
    assert fake.changes() == []


@pytest.mark.parametrize("reset_half_done", [False, True])
async def test_init_refuses_cluster_state_the_plan_did_not_expect(
    fake: FakeRemote, ca: ClusterCA, reset_half_done: bool
) -> None:
    # without sealer's init marker, control-plane files are a cluster that existed: even
    # with reset_half_done the host is not reset
    script_init(fake, M[0], *MASTER_STATE)
    target = make_target(fake, cluster(), fresh(cluster()), ca)

    with pytest.raises(StepError, match="holds cluster state") as failed:
        await Init(target, M[0], InitPayload(reset_half_done)).run(CTX)

    assert failed.value.host == M[0]
    assert fake.changes() == []


async def test_init_resets_only_its_own_half_done_init_when_told_to(
    fake: FakeRemote, ca: ClusterCA
) -> None:
    script_init(fake, M[0], *MASTER_STATE, INIT_MARKER)
    target = make_target(fake, cluster(), fresh(cluster()), ca)

    with pytest.raises(StepError):
        await Init(target, M[0], InitPayload()).run(
            CTX
        )  # not planned: refused even with the marker
    assert fake.changes() == []

    assert (await Init(target, M[0], InitPayload(reset_half_done=True)).run(CTX)).changed
    assert changed_argv(fake)[:2] == [RESET, INIT]
    assert fake.index(RESET) < fake.log.index(fake.uploads[0])  # before the new marker


async def test_init_failure_removes_the_secret_config_and_stops(
    fake: FakeRemote, ca: ClusterCA
) -> None:
    script_init(fake, M[0])
    fake.on(INIT, exit_status=1, stderr="[ERROR Port-6443]: Port 6443 is in use")
    target = make_target(fake, cluster(), fresh(cluster()), ca)

    with pytest.raises(CommandFailed, match="Port 6443") as failed:
        await Init(target, M[0], InitPayload()).run(CTX)

    assert failed.value.host == M[0]
    assert changed_argv(fake) == [INIT, RM_RUN_CONFIG]
    assert CLUSTER_IDENTITY not in [u.path for u in fake.uploads]


# -- join-master ------------------------------------------------------------------------------

JOIN = ("kubeadm", "join", "--config", KUBEADM_RUN_CONFIG_PATH)
MEMBER_LIST = (*ETCDCTL, "member", "list", "-w", "json")
HEALTH = (*ETCDCTL, "endpoint", "health", "--cluster", "-w", "json")


def script_join_master(fake: FakeRemote, ca: ClusterCA, host: str, *present: str) -> None:
    script_host(fake, host)
    readyz(fake, host, 1, 0)  # not a member yet; ready once joined
    join_credentials(fake, M[0], ca)
    kube_files(fake, host, *present)
    fake.on(JOIN, host=host)
    fake.on(INSTALL_KUBECONFIG, host=host)
    fake.on(member_remove(IDS[host]), host=M[0])
    fake.write(host, "/etc/hosts", "127.0.0.1 localhost\n")


async def test_join_master_joins_with_secrets_only_in_the_temporary_config(
    fake: FakeRemote, ca: ClusterCA
) -> None:
    host = M[1]
    script_join_master(fake, ca, host)
    c = cluster()
    target = make_target(fake, c, running(c, joined=[M[0]]), ca)

    assert (await JoinMaster(target, host, joining(host)).run(CTX)).changed

    assert changed_argv(fake, host) == [
        JOIN,
        RM_RUN_CONFIG,
        INSTALL_KUBECONFIG,
        ("rm", "-f", INIT_MARKER),
    ]
    token, key = fake.secrets
    kept, real = fake.file(host, KUBEADM_CONFIG_PATH), fake.file(host, KUBEADM_RUN_CONFIG_PATH)
    assert kept is not None and real is not None
    assert token.encode() in real and key.encode() in real
    assert token.encode() not in kept and key.encode() not in kept
    hosts = fake.file(host, "/etc/hosts") or b""
    assert f"{host} apiserver.cluster.local".encode() in hosts  # its own API server now
    assert RESET not in fake.commands()


async def test_join_master_resets_a_half_join_only_after_etcd_was_checked(
    fake: FakeRemote, ca: ClusterCA
) -> None:
    host = M[1]
    script_join_master(fake, ca, host, KUBELET_CONF, ETCD_DATA, ETCD_MANIFEST)
    etcd(fake, M[0], [member(a, IDS[a]) for a in M])
    c = cluster()
    target = make_target(fake, c, running(c, joined=[M[0], M[2]]), ca)

    assert (await JoinMaster(target, host, joining(host, remove_etcd_member=True)).run(CTX)).changed

    listed, health = fake.index(MEMBER_LIST, M[0]), fake.index(HEALTH, M[0])
    removed = fake.index(member_remove(IDS[host]), M[0])
    reset = fake.index(RESET, host)
    assert max(listed, health) < removed < reset < fake.index(JOIN, host)
    assert [c.argv for c in fake.calls if "remove" in c.argv] == [tuple(member_remove(IDS[host]))]


async def test_join_master_refuses_to_reset_when_etcd_would_lose_its_quorum(
    fake: FakeRemote, ca: ClusterCA
) -> None:
    host = M[1]
    script_join_master(fake, ca, host, KUBELET_CONF, ETCD_DATA)
    # 3 members: this host (to be reset) and M[2] (unhealthy) leave M[0] alone, no quorum
    etcd(fake, M[0], [member(a, IDS[a]) for a in M], unhealthy=[f"https://{M[2]}:2379"])
    c = cluster()
    target = make_target(fake, c, running(c, joined=[M[0], M[2]]), ca)

    with pytest.raises(StepError, match="quorum") as failed:
        await JoinMaster(target, host, joining(host, remove_etcd_member=True)).run(CTX)

    assert failed.value.host == host
    assert RESET not in fake.commands() and JOIN not in fake.commands()
    assert not any("remove" in c.argv for c in fake.calls)


async def test_join_master_refuses_to_reset_when_etcd_cannot_be_read(
    fake: FakeRemote, ca: ClusterCA
) -> None:
    host = M[1]
    script_join_master(fake, ca, host, ETCD_DATA)
    fake.on(MEMBER_LIST, host=M[0], read=True, exit_status=1, stderr="context deadline exceeded")
    c = cluster()
    target = make_target(fake, c, running(c, joined=[M[0]]), ca)

    with pytest.raises(StepError, match="health is unknown"):
        await JoinMaster(target, host, joining(host)).run(CTX)

    assert RESET not in fake.commands()


async def test_join_master_without_another_master_serving_refuses_to_reset(
    fake: FakeRemote, ca: ClusterCA
) -> None:
    host = M[1]
    script_join_master(fake, ca, host, ETCD_DATA)
    c = cluster()
    target = make_target(fake, c, replace(running(c, joined=[M[0]]), api_host=None), ca)

    with pytest.raises(StepError, match="no other master answers"):
        await JoinMaster(target, host, joining(host)).run(CTX)

    assert RESET not in fake.commands() and MEMBER_LIST not in fake.commands()


async def test_join_master_already_a_member_changes_nothing(
    fake: FakeRemote, ca: ClusterCA
) -> None:
    readyz(fake, M[1], 0)
    target = make_target(fake, cluster(), running(cluster()), ca)

    assert not (await JoinMaster(target, M[1], joining(M[1])).run(CTX)).changed
    assert fake.changes() == []


async def test_join_master_failure_stops_before_the_kubeconfig_and_identity(
    fake: FakeRemote, ca: ClusterCA
) -> None:
    host = M[1]
    script_join_master(fake, ca, host)
    fake.on(JOIN, host=host, exit_status=1, stderr="etcdserver: unhealthy cluster")
    c = cluster()
    target = make_target(fake, c, running(c, joined=[M[0]]), ca)

    with pytest.raises(CommandFailed, match="unhealthy cluster") as failed:
        await JoinMaster(target, host, joining(host)).run(CTX)

    assert failed.value.host == host
    assert changed_argv(fake, host) == [JOIN, RM_RUN_CONFIG]
    assert CLUSTER_IDENTITY not in [u.path for u in fake.uploads]


# -- join-node --------------------------------------------------------------------------------

CHECK_VIP = (PYTHON_PATH, CARE_PROGRAM_PATH, "--config", CARE_CONFIG_PATH, "--check-vip", "6")


def get_node(name: str) -> tuple[str, ...]:
    return ("kubectl", "--kubeconfig", ADMIN_CONF, "get", "node", "-o", "name",
            "--ignore-not-found", "--", name)  # fmt: skip


def script_join_node(fake: FakeRemote, ca: ClusterCA, host: str, *present: str) -> None:
    script_host(fake, host)
    fake.on(get_node(hostname(host)), host=M[0], read=True, stdout="")
    fake.on(CHECK_VIP, host=host, read=True)
    join_credentials(fake, M[0], ca)
    kube_files(fake, host, *present)
    fake.on(JOIN, host=host)


async def test_join_node_joins_through_the_vip(fake: FakeRemote, ca: ClusterCA) -> None:
    host = N[0]
    script_join_node(fake, ca, host)
    c = cluster()
    target = make_target(fake, c, running(c, joined=M), ca)

    assert (await JoinNode(target, host, JoinNodePayload()).run(CTX)).changed

    assert changed_argv(fake, host) == [JOIN, RM_RUN_CONFIG, ("rm", "-f", INIT_MARKER)]
    assert len(fake.secrets) == 1  # a token, no certificate key for a worker
    assert [u.path for u in fake.uploads] == [
        KUBEADM_CONFIG_PATH,
        KUBEADM_RUN_CONFIG_PATH,
        CLUSTER_IDENTITY,
    ]
    assert fake.index(CHECK_VIP) < fake.index(JOIN)


async def test_join_node_already_registered_changes_nothing(
    fake: FakeRemote, ca: ClusterCA
) -> None:
    fake.on(get_node(hostname(N[0])), host=M[0], read=True, stdout=f"node/{hostname(N[0])}\n")
    target = make_target(fake, cluster(), running(cluster()), ca)

    assert not (await JoinNode(target, N[0], JoinNodePayload()).run(CTX)).changed
    assert fake.changes() == []


async def test_join_node_resets_a_half_done_worker_join_first(
    fake: FakeRemote, ca: ClusterCA
) -> None:
    host = N[0]
    script_join_node(fake, ca, host, KUBELET_CONF)
    c = cluster()
    target = make_target(fake, c, running(c, joined=M), ca)

    await JoinNode(target, host, JoinNodePayload()).run(CTX)

    assert changed_argv(fake, host)[:2] == [RESET, JOIN]


async def test_join_node_refuses_to_reset_a_host_with_etcd_data(
    fake: FakeRemote, ca: ClusterCA
) -> None:
    host = N[0]
    script_join_node(fake, ca, host, KUBELET_CONF, ETCD_DATA)
    c = cluster()
    target = make_target(fake, c, running(c, joined=M), ca)

    with pytest.raises(StepError, match="etcd data") as failed:
        await JoinNode(target, host, JoinNodePayload()).run(CTX)

    assert failed.value.host == host
    assert changed_argv(fake, host) == []


async def test_join_node_api_error_fails_instead_of_resetting(
    fake: FakeRemote, ca: ClusterCA
) -> None:
    host = N[0]
    script_join_node(fake, ca, host, KUBELET_CONF)
    refused = "The connection to the server 127.0.0.1:6443 was refused"
    fake.on(get_node(hostname(host)), host=M[0], read=True, exit_status=1, stderr=refused)
    c = cluster()
    target = make_target(fake, c, running(c, joined=M), ca)

    with pytest.raises(CommandFailed, match="refused") as failed:
        await JoinNode(target, host, JoinNodePayload()).run(CTX)

    assert failed.value.host == M[0]  # asked through the API master
    assert fake.commands(host) == []  # nothing ran on the node: no reset, no join
