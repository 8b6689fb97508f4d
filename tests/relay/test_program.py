"""The relay program (sealer/relay/program.py) run for real on this machine: server and client
over 127.0.0.1, real files, real processes. No root, no lab."""

from __future__ import annotations

import ast
import hashlib
import secrets
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from sealer.relay import program_source, url_for
from tests.waiting import wait_for

DATA = secrets.token_bytes(3 * 1024 * 1024 + 17)
SHA = hashlib.sha256(DATA).hexdigest()


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", program_source(), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:
        return False
    return state != "Z"


class Server:
    def __init__(self, path: Path, sha: str = SHA, idle: int = 60, rate: int = 0) -> None:
        self.token = secrets.token_urlsafe(24)
        self.done = run(
            "serve", "127.0.0.1", str(path), sha, self.token, str(idle), "600", str(rate)
        )
        self.port = self.pid = 0
        if self.done.returncode == 0:
            _, port, pid = self.done.stdout.split()
            self.port, self.pid = int(port), int(pid)

    def url(self, token: str | None = None) -> str:
        return url_for("127.0.0.1", self.port, token or self.token)

    def stop(self) -> None:
        if self.pid and alive(self.pid):
            run("stop", str(self.pid), self.token)


@pytest.fixture
def source(tmp_path: Path) -> Path:
    path = tmp_path / "src" / "kube.tar.gz"
    path.parent.mkdir()
    path.write_bytes(DATA)
    return path


@pytest.fixture
def dest(tmp_path: Path) -> Path:
    path = tmp_path / "dst" / "kube.tar.gz"
    path.parent.mkdir()
    return path


def part_of(dest: Path) -> Path:
    return dest.parent / f".{dest.name}.sealer-relay"


def test_a_verified_copy_is_served_fetched_checked_and_the_server_ends(
    source: Path, dest: Path
) -> None:
    server = Server(source)
    try:
        assert server.done.returncode == 0, server.done
        fetched = run("fetch", server.url(), str(dest), SHA, "5", "0")
        assert fetched.returncode == 0, fetched
        assert fetched.stdout.split() == ["ok", str(len(DATA)), "0"]
        assert dest.read_bytes() == DATA
        assert oct(dest.stat().st_mode & 0o777) == "0o644"
        assert not part_of(dest).exists()
        wait_for("the server ends once it sent the whole file", lambda: not alive(server.pid))
    finally:
        server.stop()


def test_a_corrupt_copy_is_not_served(source: Path) -> None:
    flipped = bytearray(DATA)
    flipped[1000] ^= 0x01
    source.write_bytes(bytes(flipped))
    server = Server(source)
    assert server.done.returncode == 3
    assert server.done.stdout.split() == ["corrupt", hashlib.sha256(flipped).hexdigest()]
    assert server.pid == 0  # nothing listens


def test_a_partial_copy_resumes_with_a_range_request(source: Path, dest: Path) -> None:
    half = len(DATA) // 2
    part_of(dest).write_bytes(DATA[:half])
    server = Server(source)
    try:
        fetched = run("fetch", server.url(), str(dest), SHA, "5", "0")
        assert fetched.stdout.split() == ["ok", str(len(DATA)), str(half)], fetched
        assert dest.read_bytes() == DATA
    finally:
        server.stop()


def test_a_copy_with_the_wrong_sha256_is_removed_not_renamed(source: Path, dest: Path) -> None:
    part_of(dest).write_bytes(b"x" * 1000)  # a stale partial file of something else
    server = Server(source)
    try:
        fetched = run("fetch", server.url(), str(dest), SHA, "5", "0")
        assert fetched.returncode == 3, fetched
        assert fetched.stdout.startswith("corrupt ")
        assert not dest.exists()
        assert not part_of(dest).exists()
    finally:
        server.stop()


def test_a_wrong_token_gets_nothing(source: Path, dest: Path) -> None:
    server = Server(source)
    try:
        fetched = run("fetch", server.url("guess"), str(dest), SHA, "5", "0")
        assert fetched.returncode == 4, fetched
        assert "404" in fetched.stdout
        assert not dest.exists()
    finally:
        server.stop()
    wait_for("stop ends the server", lambda: not alive(server.pid))


def test_a_server_nobody_can_reach_is_reported_unreachable(dest: Path) -> None:
    with socket.socket() as s:  # a port that was free a moment ago
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    fetched = run("fetch", url_for("127.0.0.1", port, "t"), str(dest), SHA, "2", "0")
    assert fetched.returncode == 2, fetched
    assert fetched.stdout.startswith("unreachable 127.0.0.1:")


def test_an_idle_server_ends_on_its_own(source: Path) -> None:
    server = Server(source, idle=1)
    assert server.done.returncode == 0
    wait_for("a server without a request ends after IDLE seconds", lambda: not alive(server.pid))


def test_stop_ends_only_the_server_holding_the_token(source: Path) -> None:
    server = Server(source)
    try:
        assert run("stop", str(server.pid), "another-token").stdout.strip() == "gone"
        assert alive(server.pid)
        assert run("stop", str(server.pid), server.token).stdout.strip() == "stopped"
        wait_for("the server ends", lambda: not alive(server.pid))
    finally:
        server.stop()


def test_the_program_parses_as_python_3_8() -> None:
    # a host's python3 may be as old as 3.8 (the care daemon's floor too)
    ast.parse(program_source(), feature_version=(3, 8))
