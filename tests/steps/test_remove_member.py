"""remove-member against the fake: by peer URL, after the health and quorum check."""

from __future__ import annotations

from dataclasses import replace

import pytest

from sealer.engine.context import RunContext
from sealer.errors import CommandFailed, StepError
from sealer.plan.payloads import RemoveMemberPayload
from sealer.plan.state import LiveHost
from sealer.steps.remove_member import RemoveMember
from tests.steps.builders import (
    GONE,
    IDS,
    M,
    cluster,
    etcd,
    make_target,
    member,
    member_remove,
    running,
)
from tests.steps.fake_remote import FakeRemote, changed_argv

CTX = RunContext()


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
