"""The fake itself: it refuses what was not scripted, records everything, keeps files."""

from __future__ import annotations

import pytest

from sealer.connect import HostAccess, TransferFailed
from sealer.errors import CommandFailed
from tests.steps.fake_remote import Call, FakeRemote, Reply, Upload

H = HostAccess("10.9.0.2")


async def test_an_unscripted_command_is_refused_naming_host_and_argv(fake: FakeRemote) -> None:
    with pytest.raises(AssertionError, match=r"unscripted command on 10\.9\.0\.2: rm -rf /"):
        await fake.run(H, ["rm", "-rf", "/"])
    assert fake.log == []


async def test_exact_beats_prefix_beats_predicate_and_hosts_are_kept_apart(
    fake: FakeRemote,
) -> None:
    fake.on_match(lambda c: c.argv[0] == "echo", stdout="predicate")
    fake.on_prefix(["echo"], stdout="prefix")
    fake.on_prefix(["echo", "a"], stdout="longer prefix")
    fake.on(["echo", "a", "b"], stdout="exact")
    fake.on(["echo", "a", "b"], stdout="other host", host="10.9.0.3")
    assert (await fake.run(H, ["echo", "a", "b"])).stdout == "exact"
    assert (await fake.run(H, ["echo", "a", "c"])).stdout == "longer prefix"
    assert (await fake.run(H, ["echo", "x"])).stdout == "prefix"
    assert (await fake.run(HostAccess("10.9.0.3"), ["echo", "a", "b"])).stdout == "other host"
    with pytest.raises(AssertionError):
        await fake.run(H, ["printf", "x"])


async def test_replies_in_turn_and_check_raises_command_failed_redacted(fake: FakeRemote) -> None:
    fake.on(["probe"], [Reply(1), Reply(0)], read=True)
    assert not (await fake.run(H, ["probe"], check=False)).ok
    assert (await fake.run(H, ["probe"])).ok
    assert (await fake.run(H, ["probe"])).ok  # the last reply repeats
    fake.add_secret("s3cret")
    fake.on(["login", "s3cret"], exit_status=2, stderr="bad s3cret")
    with pytest.raises(CommandFailed) as failed:
        await fake.run(H, ["login", "s3cret"])
    assert failed.value.host == "10.9.0.2"
    assert failed.value.argv == ["login", "***"] and "s3cret" not in failed.value.stderr
    assert fake.changes() == [Call("10.9.0.2", ("login", "s3cret"), True, exit_status=2)]


async def test_files_written_are_read_back_and_get_refuses_missing_ones(
    fake: FakeRemote, tmp_path: object
) -> None:
    digest = await fake.put(H, b"data", "/etc/x", mode=0o600)
    assert await fake.read_file(H, "/etc/x") == b"data"
    assert await fake.read_file(H, "/etc/y") is None
    assert await fake.read_file(HostAccess("10.9.0.3"), "/etc/x") is None
    assert fake.uploads == [Upload("10.9.0.2", "/etc/x", b"data", 0o600)]
    assert len(digest) == 64
    with pytest.raises(TransferFailed):
        await fake.get(H, "/etc/y")
