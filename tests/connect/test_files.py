from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

import pytest

from sealer.connect import Connections, HostAccess, MemoryRecorder, PoolOptions, TransferFailed

# Real sshd processes and temporary system users: needs root.
pytestmark = pytest.mark.lab


async def test_put_bytes_sets_mode_and_returns_sha256(
    root: HostAccess, options: PoolOptions, tmp_path: Path
) -> None:
    target = tmp_path / "etc" / "config.yaml"
    data = b"kind: Test\n" * 1000
    recorder = MemoryRecorder()
    async with Connections(options, recorder=recorder) as conns:
        digest = await conns.put(root, data, str(target), mode=0o600, parents=True)
        remote = await conns.run(root, ["sha256sum", str(target)])
    assert digest == hashlib.sha256(data).hexdigest()
    assert remote.stdout.split()[0] == digest
    assert target.read_bytes() == data
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert os.listdir(target.parent) == ["config.yaml"]  # no temporary file left behind
    put = [r for r in recorder.records if r.kind == "put"]
    assert [(r.path, r.size, r.sha256) for r in put] == [(str(target), len(data), digest)]


async def test_put_replaces_atomically_by_rename(
    root: HostAccess, options: PoolOptions, tmp_path: Path
) -> None:
    target = tmp_path / "file"
    target.write_bytes(b"old")
    before = target.stat().st_ino
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(9 * 1024 * 1024 + 17))
    async with Connections(options) as conns:
        digest = await conns.put(root, big, str(target), mode=0o755)
    after = target.stat()
    # a new inode renamed over the old name, not the old file rewritten in place
    assert after.st_ino != before
    assert stat.S_IMODE(after.st_mode) == 0o755
    assert hashlib.sha256(target.read_bytes()).hexdigest() == digest
    assert digest == hashlib.sha256(big.read_bytes()).hexdigest()


async def test_put_into_missing_directory_fails_cleanly(
    root: HostAccess, options: PoolOptions, tmp_path: Path
) -> None:
    async with Connections(options) as conns:
        with pytest.raises(TransferFailed, match="upload failed"):
            await conns.put(root, b"x", str(tmp_path / "missing" / "file"))
    with pytest.raises(ValueError):
        async with Connections(options) as conns:
            await conns.put(root, b"x", "relative/path")


async def test_read_file_get_and_missing(
    root: HostAccess, options: PoolOptions, tmp_path: Path
) -> None:
    source = tmp_path / "remote.bin"
    source.write_bytes(bytes(range(256)))
    local = tmp_path / "copy.bin"
    async with Connections(options) as conns:
        assert await conns.read_file(root, str(source)) == bytes(range(256))
        assert await conns.read_file(root, str(tmp_path / "nope")) is None
        assert await conns.get(root, str(source), local) == bytes(range(256))
        with pytest.raises(TransferFailed, match="no such file"):
            await conns.get(root, str(tmp_path / "nope"))
    assert local.read_bytes() == bytes(range(256))
    assert stat.S_IMODE(local.stat().st_mode) == 0o600


async def test_transfers_and_commands_share_one_connection(
    root: HostAccess, options: PoolOptions, tmp_path: Path
) -> None:
    async with Connections(options) as conns:
        await conns.put(root, b"a", str(tmp_path / "a"))
        await conns.run(root, ["true"])
        await conns.read_file(root, str(tmp_path / "a"))
        assert conns.opened == 1
