"""delete-node against the fake."""

from __future__ import annotations

import pytest

from sealer.engine.context import RunContext
from sealer.errors import CommandFailed
from sealer.layout import ADMIN_CONF
from sealer.plan.payloads import DeleteNodePayload
from sealer.steps.delete_node import DeleteNode
from tests.steps.builders import M, N, cluster, hostname, make_target, running
from tests.steps.fake_remote import FakeRemote, changed_argv

CTX = RunContext()

KUBECTL = ("kubectl", "--kubeconfig", ADMIN_CONF)


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
