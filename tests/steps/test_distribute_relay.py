"""distribute with a relay source, against the fake: the source serves, the host fetches, the
token stays secret; unreachable or corrupt sources fall back to the workstation and say so."""

from __future__ import annotations

from pathlib import Path

from sealer.engine.context import RunContext
from sealer.layout import PACKAGE_DIR
from sealer.plan.payloads import DistributePayload
from sealer.relay import program_source
from sealer.steps.distribute import Distribute
from tests.steps.builders import M, N, cluster, fresh, make_target, package
from tests.steps.fake_remote import Call, FakeRemote, Reply, Upload
from tests.steps.test_host_steps import script_distribute

CTX = RunContext()
SOURCE, HOST = M[0], N[0]
PORT, PID = 40123, 777


def mode_of(call: Call) -> str | None:
    """The relay program's mode (serve, fetch, stop) of a ``python3 -c SOURCE MODE ...``."""
    argv = call.argv
    if argv[:2] == ("python3", "-c") and argv[2] == program_source():
        return argv[3]
    return None


def relay(fake: FakeRemote, serve: Reply, fetch: Reply | None = None) -> None:
    fake.on_match(lambda c: mode_of(c) == "serve", serve, host=SOURCE)
    fake.on_match(lambda c: mode_of(c) == "stop", Reply(0, "stopped\n"), host=SOURCE)
    if fetch is not None:

        def fetched(f: FakeRemote, call: Call) -> Reply:
            if fetch.exit_status == 0:  # the program renamed the verified copy into place
                f.write(HOST, call.argv[5], b"the package")
            return fetch

        fake.on_match(lambda c: mode_of(c) == "fetch", fetched, host=HOST)


def setup(fake: FakeRemote, tmp_path: Path) -> tuple[Distribute, str]:
    pkg = package(tmp_path)
    remote = f"{PACKAGE_DIR}/{pkg.name}"
    fake.write(SOURCE, remote, b"the package")
    script_distribute(fake, remote)
    target = make_target(fake, cluster(), fresh(cluster()), package_or_none=pkg)
    return Distribute(target, HOST, DistributePayload(SOURCE)), remote


def calls(fake: FakeRemote, mode: str) -> list[Call]:
    return [c for c in fake.calls if mode_of(c) == mode]


async def test_relay_copy_is_served_by_the_source_and_fetched_by_the_host(
    fake: FakeRemote, tmp_path: Path
) -> None:
    step, remote = setup(fake, tmp_path)
    relay(fake, Reply(0, f"serving {PORT} {PID}\n"), Reply(0, "ok 11 0\n"))

    outcome = await step.run(CTX)

    assert outcome.changed and f"copied from {SOURCE} (relay)" in outcome.reason
    assert fake.uploads == []  # nothing from the workstation
    (serve,) = calls(fake, "serve")
    bind, path, sha, token = serve.argv[4:8]
    assert (bind, path, sha) == (SOURCE, remote, step.target.package.sha256)
    assert len(token) >= 32 and token in fake.secrets  # unguessable, never logged
    (fetch,) = calls(fake, "fetch")
    assert fetch.argv[4:7] == (f"http://{SOURCE}:{PORT}/{token}", remote, sha)
    assert calls(fake, "stop") == []  # the server ended by itself: the copy was complete
    # the host checks the copy's sha256 itself after the fetch
    assert fake.commands(HOST)[-1] == ("sha256sum", remote)
    assert fake.commands(HOST).index(fetch.argv) == len(fake.commands(HOST)) - 2


async def test_hosts_that_cannot_reach_each_other_fall_back_to_the_workstation(
    fake: FakeRemote, tmp_path: Path
) -> None:
    step, remote = setup(fake, tmp_path)
    unreachable = Reply(2, f"unreachable {SOURCE}:{PORT}: timed out\n")
    relay(fake, Reply(0, f"serving {PORT} {PID}\n"), unreachable)

    outcome = await step.run(CTX)

    assert outcome.changed
    assert "copied from the workstation" in outcome.reason
    assert f"{HOST} cannot reach {SOURCE} ({SOURCE}:{PORT}: timed out)" in outcome.reason
    assert fake.uploads == [Upload(HOST, remote, b"the package", 0o644)]
    (stop,) = calls(fake, "stop")  # the server that nobody reached is stopped
    token = calls(fake, "serve")[0].argv[7]
    assert stop.argv[4:] == (str(PID), token)


async def test_a_corrupt_source_copy_is_not_served_and_the_host_gets_the_workstations(
    fake: FakeRemote, tmp_path: Path
) -> None:
    step, remote = setup(fake, tmp_path)
    relay(fake, Reply(3, f"corrupt {'b' * 64}\n"))

    outcome = await step.run(CTX)

    assert calls(fake, "fetch") == []  # nothing served, nothing fetched
    assert f"{SOURCE}'s copy failed its sha256 check" in outcome.reason
    assert "not served on" in outcome.reason
    assert fake.uploads == [Upload(HOST, remote, b"the package", 0o644)]


async def test_a_source_without_python3_falls_back_and_says_so(
    fake: FakeRemote, tmp_path: Path
) -> None:
    step, remote = setup(fake, tmp_path)
    relay(fake, Reply(127, "", "sh: 1: python3: not found\n"))

    outcome = await step.run(CTX)

    assert f"{SOURCE} could not serve its copy: sh: 1: python3: not found" in outcome.reason
    assert fake.uploads == [Upload(HOST, remote, b"the package", 0o644)]


async def test_a_copy_with_the_wrong_sha256_in_transit_falls_back(
    fake: FakeRemote, tmp_path: Path
) -> None:
    step, remote = setup(fake, tmp_path)
    relay(fake, Reply(0, f"serving {PORT} {PID}\n"), Reply(3, f"corrupt {'c' * 64}\n"))

    outcome = await step.run(CTX)

    assert f"the copy from {SOURCE} arrived with the wrong sha256" in outcome.reason
    assert len(calls(fake, "stop")) == 1
    assert fake.uploads == [Upload(HOST, remote, b"the package", 0o644)]


async def test_upload_limit_reaches_both_ends_of_a_relay_link(
    fake: FakeRemote, tmp_path: Path
) -> None:
    pkg = package(tmp_path)
    remote = f"{PACKAGE_DIR}/{pkg.name}"
    script_distribute(fake, remote)
    target = make_target(
        fake, cluster(), fresh(cluster()), package_or_none=pkg, upload_limit=1048576
    )
    relay(fake, Reply(0, f"serving {PORT} {PID}\n"), Reply(0, "ok 11 0\n"))

    await Distribute(target, HOST, DistributePayload(SOURCE)).run(CTX)

    assert calls(fake, "serve")[0].argv[-1] == "1048576"
    assert calls(fake, "fetch")[0].argv[-1] == "1048576"
