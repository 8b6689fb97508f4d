from __future__ import annotations

import hashlib
import json
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from sealer.connect import Connections, HostAccess, MemoryRecorder, PoolOptions, Secret
from sealer.errors import CommandFailed
from tests.connect.sshd import Sshd, TempUser

# Real sshd processes and temporary system users: needs root.
pytestmark = pytest.mark.lab


@pytest.fixture
def root_only_dir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="sealer-rootonly-") as tmp:
        path = Path(tmp)
        path.chmod(0o700)
        yield path


def _host(sshd: Sshd, user: TempUser) -> HostAccess:
    return HostAccess(
        "127.0.0.1", sshd.port, user=user.name, password=Secret(user.password), agent=False
    )


async def test_non_root_user_runs_through_sudo_n(
    sshd: Sshd, sudo_user: TempUser, options: PoolOptions, root_only_dir: Path
) -> None:
    host = _host(sshd, sudo_user)
    secret = root_only_dir / "secret"
    secret.write_text("root only\n")
    async with Connections(options) as conns:
        assert (await conns.run(host, ["id", "-u"])).stdout == "0\n"
        assert (await conns.run(host, ["id", "-un"], sudo=False)).stdout == f"{sudo_user.name}\n"
        assert (await conns.run(host, ["pwd"], cwd=str(root_only_dir))).stdout.strip() == str(
            root_only_dir
        )
        assert await conns.read_file(host, str(secret)) == b"root only\n"
        assert await conns.read_file(host, str(root_only_dir / "missing")) is None


async def test_a_file_read_through_sudo_is_logged_as_size_and_sha256_not_content(
    sshd: Sshd, sudo_user: TempUser, options: PoolOptions, root_only_dir: Path
) -> None:
    host = _host(sshd, sudo_user)
    key = root_only_dir / "ca.key"
    content = b"-----BEGIN PRIVATE KEY-----\nnot-in-any-log-4f1c\n-----END PRIVATE KEY-----\n"
    key.write_bytes(content)
    recorder = MemoryRecorder()
    async with Connections(options, recorder=recorder) as conns:
        assert await conns.read_file(host, str(key)) == content
    [read] = [r for r in recorder.records if r.argv == ("cat", "--", str(key))]
    assert (read.exit_status, read.stdout) == (0, "")
    assert (read.size, read.sha256) == (len(content), hashlib.sha256(content).hexdigest())
    logged = json.dumps([r.to_dict() for r in recorder.records])
    assert "not-in-any-log-4f1c" not in logged


async def test_sudo_upload_to_root_owned_path(
    sshd: Sshd, sudo_user: TempUser, options: PoolOptions, root_only_dir: Path
) -> None:
    host = _host(sshd, sudo_user)
    target = root_only_dir / "kubeadm.yaml"
    target.write_text("old\n")
    async with Connections(options) as conns:
        await conns.put(host, b"new\n", str(target), mode=0o640)
    info = target.stat()
    assert target.read_bytes() == b"new\n"
    assert (info.st_uid, stat.S_IMODE(info.st_mode)) == (0, 0o640)
    assert os.listdir(root_only_dir) == ["kubeadm.yaml"]
    assert [p for p in os.listdir(sudo_user.home) if p.startswith(".sealer")] == []


async def test_sudo_without_sudoers_entry_fails_at_once(
    sshd: Sshd, user: TempUser, options: PoolOptions
) -> None:
    async with Connections(options) as conns:
        with pytest.raises(CommandFailed) as caught:
            await conns.run(_host(sshd, user), ["id", "-u"])
    assert caught.value.exit_status == 1
    assert "password is required" in caught.value.stderr
