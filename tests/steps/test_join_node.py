"""join-node against the fake: through the VIP once it answers reliably, and a half-done
worker join reset only when the host holds no etcd data."""

from __future__ import annotations

import pytest

from sealer.engine.context import RunContext
from sealer.errors import CommandFailed, StepError
from sealer.kube.pki import ClusterCA
from sealer.layout import (
    ADMIN_CONF,
    CARE_CONFIG_PATH,
    CARE_PROGRAM_PATH,
    CLUSTER_IDENTITY,
    ETCD_DATA,
    INIT_MARKER,
    KUBEADM_CONFIG_PATH,
    KUBEADM_RUN_CONFIG_PATH,
    KUBEADM_TOKEN_CONFIG_PATH,
    KUBELET_CONF,
    PYTHON_PATH,
)
from sealer.plan.payloads import JoinNodePayload
from sealer.steps import join_node
from sealer.steps.join_node import JoinNode
from tests.steps.builders import (
    RM_TOKEN_CONFIG,
    TOKEN_CREATE,
    M,
    N,
    cluster,
    hostname,
    join_credentials,
    kube_files,
    make_target,
    running,
)
from tests.steps.fake_remote import FakeRemote, Reply
from tests.steps.kubeadm_runs import JOIN, RESET, RM_RUN_CONFIG, changed_argv, script_host

CTX = RunContext()


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
    token = target.credentials.token
    assert token is not None and fake.secrets == [token, token.split(".")[1]]
    assert [(u.host, u.path, u.mode) for u in fake.uploads] == [
        (M[0], KUBEADM_TOKEN_CONFIG_PATH, 0o600),
        (host, KUBEADM_CONFIG_PATH, 0o600),
        (host, KUBEADM_RUN_CONFIG_PATH, 0o600),
        (host, CLUSTER_IDENTITY, 0o644),
    ]
    assert f"- token: {token}\n".encode() in fake.uploads[0].content
    # the token file is made, used by `kubeadm token create` and removed, in that order
    created, removed = fake.index(TOKEN_CREATE, M[0]), fake.index(RM_TOKEN_CONFIG, M[0])
    assert fake.log.index(fake.uploads[0]) < created < removed < fake.index(JOIN)
    assert fake.file(M[0], KUBEADM_TOKEN_CONFIG_PATH) is None
    assert all(token.split(".")[1] not in " ".join(c.argv) for c in fake.calls)
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


def ready_status(name: str) -> tuple[str, ...]:
    return ("kubectl", "--kubeconfig", ADMIN_CONF, "get", "node", "-o",
            'jsonpath={.status.conditions[?(@.type=="Ready")].status}', "--", name)  # fmt: skip


async def test_rejoin_resets_the_stale_kubelet_and_joins_once_its_node_is_not_ready(
    fake: FakeRemote, ca: ClusterCA, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a restore, a node whose kubelet certificate no longer verifies: registered (its
    Node object stays), still Ready for a while (the node controller's grace period), then
    Unknown: only then reset and join (kubeadm refuses a name whose Node is Ready)."""
    monkeypatch.setattr(join_node, "NOT_READY_POLL", 0.01)
    host = N[0]
    script_join_node(fake, ca, host, KUBELET_CONF)
    fake.on(get_node(hostname(host)), host=M[0], read=True, stdout=f"node/{hostname(host)}\n")
    answers = iter(["True", "True", "Unknown"])
    fake.on(
        ready_status(hostname(host)),
        lambda _f, _c: Reply(0, next(answers)),
        host=M[0],
        read=True,
    )
    c = cluster()
    target = make_target(fake, c, running(c), ca)

    outcome = await JoinNode(target, host, JoinNodePayload(rejoin=True)).run(CTX)

    assert outcome.changed and "re-joined" in outcome.reason
    assert changed_argv(fake, host) == [RESET, JOIN, RM_RUN_CONFIG, ("rm", "-f", INIT_MARKER)]
    asked = [c for c in fake.calls if c.argv == ready_status(hostname(host))]
    assert len(asked) == 3  # it waited for the Node to stop being Ready
    assert fake.index(asked[-1].argv) < fake.index(RESET)
    assert JoinNodePayload(rejoin=True).flags == ("rejoin",)
