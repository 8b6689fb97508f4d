"""delete-node against the fake."""

from __future__ import annotations

import pytest

from sealer.engine.context import RunContext
from sealer.errors import CommandFailed
from sealer.layout import ADMIN_CONF
from sealer.plan.payloads import DeleteNodePayload
from sealer.steps import api_master
from sealer.steps.delete_node import DeleteNode
from tests.steps.builders import M, N, cluster, hostname, make_target, running
from tests.steps.fake_remote import FakeRemote, Reply, changed_argv

CTX = RunContext()

KUBECTL = ("kubectl", "--kubeconfig", ADMIN_CONF)


def delete(name: str) -> tuple[str, ...]:
    return (*KUBECTL, "delete", "node", "--ignore-not-found", "--", name)


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
    assert changed_argv(fake) == [delete(name)]  # not asked again: not a passing error


LEADER_CHANGED = (
    "Error from server (InternalError): Internal error occurred: etcdserver: leader changed\n"
)


async def test_delete_node_asks_again_while_etcd_elects_a_leader(
    fake: FakeRemote, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(api_master, "API_RETRY_PAUSE", 0.0)
    name = hostname(N[0])
    answers = [Reply(1, "", LEADER_CHANGED), Reply(1, "", LEADER_CHANGED)]
    fake.on(delete(name), [*answers, Reply(0, f'node "{name}" deleted\n')], host=M[0])
    target = make_target(fake, cluster(), running(cluster()))

    assert (await DeleteNode(target, N[0], DeleteNodePayload(name)).run(CTX)).changed
    assert changed_argv(fake) == [delete(name)] * 3


async def test_delete_node_gives_up_when_the_error_outlasts_the_retry_time(
    fake: FakeRemote, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(api_master, "API_RETRY_PAUSE", 0.0)
    monkeypatch.setattr(api_master, "API_RETRY_SECONDS", 0.05)
    name = hostname(N[0])
    fake.on(delete(name), host=M[0], exit_status=1, stderr=LEADER_CHANGED)
    target = make_target(fake, cluster(), running(cluster()))

    with pytest.raises(CommandFailed, match="leader changed"):
        await DeleteNode(target, N[0], DeleteNodePayload(name)).run(CTX)
    assert len(changed_argv(fake)) >= 2
