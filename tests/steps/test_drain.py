"""drain against the fake: only a node that is not found is skipped."""

from __future__ import annotations

import pytest

from sealer.engine.context import RunContext
from sealer.errors import CommandFailed
from sealer.layout import ADMIN_CONF
from sealer.plan.payloads import DrainPayload
from sealer.steps.drain import Drain
from tests.steps.builders import M, N, cluster, hostname, make_target, running
from tests.steps.fake_remote import FakeRemote, changed_argv

CTX = RunContext()

KUBECTL = ("kubectl", "--kubeconfig", ADMIN_CONF)


def get_node(name: str) -> tuple[str, ...]:
    return (*KUBECTL, "get", "node", "-o", "name", "--ignore-not-found", "--", name)


def drain(name: str) -> tuple[str, ...]:
    return (*KUBECTL, "drain", "--ignore-daemonsets", "--delete-emptydir-data", "--force",
            "--timeout=300s", "--", name)  # fmt: skip


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
