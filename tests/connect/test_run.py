from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import shlex
import time
from pathlib import Path

import pytest

from sealer.connect import (
    CommandTimedOut,
    Connections,
    HostAccess,
    JsonlRunLog,
    MemoryRecorder,
    PoolOptions,
    Secret,
)
from sealer.errors import CommandFailed, ConnectError
from tests.connect.sshd import Sshd, TempUser

# Real sshd processes and temporary system users: needs root.
pytestmark = pytest.mark.lab

HOSTILE = [
    "$(touch {canary})",
    "`touch {canary}`",
    "'; touch {canary}; '",
    '"; touch {canary}; "',
    "a b\tc\nd",
    "*",
    "--",
    "",
    "\\",
    "~root",
]


async def test_hostile_arguments_arrive_verbatim(
    root: HostAccess, options: PoolOptions, tmp_path: Path
) -> None:
    canary = tmp_path / "pwned"
    args = [a.format(canary=canary) for a in HOSTILE]
    async with Connections(options) as conns:
        result = await conns.run(root, ["printf", "%s\\0", *args])
    assert result.stdout.split("\x00")[:-1] == args
    assert not canary.exists()


async def test_exit_status_becomes_command_failed_with_argv_and_stderr(
    root: HostAccess, options: PoolOptions
) -> None:
    argv = ["sh", "-c", "echo out; echo boom >&2; exit 3"]
    async with Connections(options) as conns:
        with pytest.raises(CommandFailed) as caught:
            await conns.run(root, argv)
        unchecked = await conns.run(root, argv, check=False)
    assert caught.value.argv == argv
    assert caught.value.exit_status == 3
    assert caught.value.stderr == "boom\n"
    assert caught.value.stdout == "out\n"
    assert caught.value.host == f"127.0.0.1:{root.port}"
    assert "boom" in str(caught.value)
    assert (unchecked.exit_status, unchecked.ok) == (3, False)


async def test_input_cwd_and_env(root: HostAccess, options: PoolOptions, tmp_path: Path) -> None:
    (tmp_path / "a dir").mkdir()
    async with Connections(options) as conns:
        echoed = await conns.run(root, ["cat"], input="line 1\nline 2\n")
        where = await conns.run(root, ["pwd"], cwd=str(tmp_path / "a dir"))
        env = await conns.run(root, ["sh", "-c", 'echo "$X"'], env={"X": "it's $HOME"})
    assert echoed.stdout == "line 1\nline 2\n"
    assert where.stdout.strip() == str(tmp_path / "a dir")
    assert env.stdout == "it's $HOME\n"


async def test_one_connection_for_many_commands(
    sshd: Sshd, root: HostAccess, options: PoolOptions
) -> None:
    before = sshd.connections()
    async with Connections(options) as conns:
        results = await asyncio.gather(*(conns.run(root, ["echo", str(i)]) for i in range(30)))
        results.append(await conns.run(root, ["echo", "last"]))
        assert conns.opened == 1
    assert [r.stdout for r in results[:30]] == [f"{i}\n" for i in range(30)]
    assert sshd.connections() - before == 1


# Each command registers itself in a directory, records how many are registered, waits a bit and
# deregisters before exiting: the largest number recorded bounds the commands running at once.
PROBE = 'f=$(mktemp -p "$1"); ls "$1" | wc -l >> "$2"; sleep 0.2; rm -f "$f"'


async def _max_overlap(
    conns: Connections, hosts: list[HostAccess], count: int, tmp_path: Path
) -> int:
    running = tmp_path / "running"
    running.mkdir()
    seen = tmp_path / "seen"
    argv = ["sh", "-c", PROBE, "probe", str(running), str(seen)]
    await asyncio.gather(*(conns.run(hosts[i % len(hosts)], argv) for i in range(count)))
    return max(int(line) for line in seen.read_text().split())


async def test_concurrency_bound_is_respected(
    root: HostAccess, options: PoolOptions, tmp_path: Path
) -> None:
    bounded = PoolOptions(
        known_hosts=options.known_hosts,
        pinned_known_hosts=options.pinned_known_hosts,
        concurrency=2,
    )
    async with Connections(bounded) as conns:
        assert await _max_overlap(conns, [root], 8, tmp_path) <= 2


async def test_more_commands_than_sshd_sessions_on_one_host(
    root: HostAccess, options: PoolOptions, tmp_path: Path
) -> None:
    # sshd allows 10 sessions per connection; 25 concurrent commands must still all succeed.
    async with Connections(options) as conns:
        overlap = await _max_overlap(conns, [root], 25, tmp_path)
    assert overlap <= options.channels_per_host


async def test_timeout_stops_the_command(root: HostAccess, options: PoolOptions) -> None:
    async with Connections(options) as conns:
        with pytest.raises(CommandTimedOut) as caught:
            await conns.run(root, ["sleep", "30"], timeout=0.3)
        assert caught.value.exit_status is None
        assert "did not finish within 0.3 s" in str(caught.value)
        # the connection is still usable afterwards
        assert (await conns.run(root, ["echo", "ok"])).stdout == "ok\n"


async def test_every_command_has_a_default_timeout(root: HostAccess, options: PoolOptions) -> None:
    assert PoolOptions().command_timeout == 300.0
    bounded = dataclasses.replace(options, command_timeout=0.5)
    async with Connections(bounded) as conns:
        with pytest.raises(CommandTimedOut, match=r"did not finish within 0\.5 s"):
            await conns.run(root, ["sleep", "30"])
        # a caller's own bound wins over the default
        assert (await conns.run(root, ["sleep", "1"], timeout=10)).ok


async def test_commands_run_in_the_c_locale(root: HostAccess, options: PoolOptions) -> None:
    async with Connections(options) as conns:
        env = {"LANG": "de_DE.UTF-8", "LC_MESSAGES": "de_DE.UTF-8"}
        seen = await conns.run(root, ["sh", "-c", 'echo "$LC_ALL"'], env=env)
        assert seen.stdout == "C\n"
        missing = await conns.run(root, ["ls", "/nonexistent-sealer"], check=False, env=env)
        assert "No such file or directory" in missing.stderr


async def test_commands_and_outputs_are_recorded_with_secrets_redacted(
    root: HostAccess, options: PoolOptions
) -> None:
    token = "abcdef.0123456789abcdef"
    recorder = MemoryRecorder()
    host = HostAccess(
        address=root.address,
        port=root.port,
        private_key=root.private_key,
        password=Secret("hunter2-password"),
        agent=False,
    )
    async with Connections(options, recorder=recorder) as conns:
        conns.add_secret(token)
        await conns.run(host, ["echo", "join", "--token", token, "hunter2-password"])
        with pytest.raises(CommandFailed) as caught:
            await conns.run(host, ["sh", "-c", 'echo "$0" >&2; exit 1', token])
        await conns.run(host, ["cat"], input=token)
    assert token not in str(caught.value)
    assert token not in caught.value.stderr
    runs = [r for r in recorder.records if r.kind == "run"]
    assert len(runs) == 3
    assert runs[0].argv == ("echo", "join", "--token", "***", "***")
    assert runs[0].stdout == "join --token *** ***\n"
    assert runs[0].exit_status == 0
    assert runs[1].exit_status == 1 and runs[1].stderr == "***\n"
    assert runs[2].input_size == len(token) and runs[2].stdout == "***"
    # the command sshd ran: the argv as given, in the C locale (parsing never depends on it)
    assert shlex.split(runs[0].command) == ["env", "LC_ALL=C", *runs[0].argv]
    dumped = repr(recorder.records) + repr(host)
    assert token not in dumped and "hunter2-password" not in dumped
    assert [r.kind for r in recorder.records].count("connect") == 1


#: How long a remote process may take to start or to end after its signal (a loaded machine).
PROCESS_TIMEOUT = 30.0


async def _gone(pattern: str) -> bool:
    deadline = time.monotonic() + PROCESS_TIMEOUT
    while time.monotonic() < deadline:
        proc = await asyncio.create_subprocess_exec(
            "pgrep", "-f", pattern, stdout=asyncio.subprocess.DEVNULL
        )
        if await proc.wait() == 1:  # 1: no process matched
            return True
        await asyncio.sleep(0.05)
    return False


async def test_timed_out_command_is_terminated_on_the_host(
    sshd: Sshd, sudo_user: TempUser, options: PoolOptions
) -> None:
    # OpenSSH delivers signal requests only for non-root sessions (see pool._terminate).
    host = HostAccess(
        "127.0.0.1", sshd.port, user=sudo_user.name, password=Secret(sudo_user.password)
    )
    marker = f"sleep 1234.{os.getpid()}"
    async with Connections(options) as conns:
        with pytest.raises(CommandTimedOut):
            await conns.run(host, marker.split(), timeout=0.5)
        assert await _gone(marker)


async def test_cancelled_command_is_terminated_on_the_host(
    sshd: Sshd, sudo_user: TempUser, options: PoolOptions
) -> None:
    host = HostAccess(
        "127.0.0.1", sshd.port, user=sudo_user.name, password=Secret(sudo_user.password)
    )
    marker = f"sleep 4321.{os.getpid()}"
    recorder = MemoryRecorder()
    async with Connections(options, recorder=recorder) as conns:
        task = asyncio.create_task(conns.run(host, marker.split()))
        deadline = time.monotonic() + PROCESS_TIMEOUT
        while not await _running(marker):
            assert not task.done(), task
            assert time.monotonic() < deadline, f"{marker} never started on the host"
            await asyncio.sleep(0.02)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert await _gone(marker)
    assert recorder.records[-1].error == "cancelled"


async def _running(pattern: str) -> bool:
    proc = await asyncio.create_subprocess_exec(
        "pgrep", "-f", pattern, stdout=asyncio.subprocess.DEVNULL
    )
    return await proc.wait() == 0


async def test_lost_connection_is_reported_and_the_next_command_reconnects(
    sshd: Sshd, root: HostAccess, options: PoolOptions
) -> None:
    async with Connections(options) as conns:
        # The shell's parent is sshd's session process for this connection: killing it drops
        # the connection while the command runs.
        with pytest.raises(ConnectError, match="may or may not have taken effect"):
            await conns.run(root, ["sh", "-c", "kill -9 $PPID; sleep 5"])
        assert (await conns.run(root, ["echo", "back"])).stdout == "back\n"
        assert conns.opened == 2


async def test_jsonl_run_log(root: HostAccess, options: PoolOptions, tmp_path: Path) -> None:
    log = tmp_path / "logs" / "run.jsonl"
    async with Connections(options, recorder=JsonlRunLog(log)) as conns:
        conns.add_secret("s3cr3t-token")
        await conns.run(root, ["echo", "s3cr3t-token"])
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert [line["kind"] for line in lines] == ["connect", "run"]
    assert lines[1]["argv"] == ["echo", "***"] and lines[1]["stdout"] == "***\n"
    assert "s3cr3t-token" not in log.read_text()
    assert log.stat().st_mode & 0o777 == 0o600


async def test_burst_of_short_commands_on_one_host(
    sshd: Sshd, user: TempUser, options: PoolOptions
) -> None:
    # A plain /bin/sh user: commands are fast, so sessions open and close in quick succession.
    host = HostAccess(
        "127.0.0.1", sshd.port, user=user.name, password=Secret(user.password), sudo=False
    )
    async with Connections(options) as conns:
        results = await asyncio.gather(*(conns.run(host, ["echo", str(i)]) for i in range(150)))
        assert conns.opened == 1
    assert [r.stdout for r in results] == [f"{i}\n" for i in range(150)]


async def test_a_command_reading_stdin_gets_eof_instead_of_waiting(
    root: HostAccess, options: PoolOptions
) -> None:
    async with Connections(options) as conns:
        result = await conns.run(root, ["cat"], timeout=20)
        prompt = await conns.run(root, ["sh", "-c", "read answer; echo got:$answer"], timeout=20)
    assert result.stdout == ""
    assert prompt.stdout == "got:\n"
