"""The scheduled snapshot's program (sealer/etcd_backup/program.py) against a real etcd on
this machine: a verified snapshot, 0600 in a 0700 directory with its sha256 beside it, the
newest ``keep`` kept; a failure leaves nothing and exits 1. Pure parts without etcd."""

from __future__ import annotations

import hashlib
import json
import socket
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from sealer.etcd_backup import program
from tests.waiting import wait_for

ETCD = "/usr/bin/etcd"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def etcd(tmp_path: Path) -> Iterator[tuple[str, ...]]:
    """A one-member etcd on loopback; yields the etcdctl argv prefix that reaches it."""
    client, peer = f"http://127.0.0.1:{_free_port()}", f"http://127.0.0.1:{_free_port()}"
    proc = subprocess.Popen(
        [ETCD, "--name=backup", f"--data-dir={tmp_path / 'etcd'}",
         f"--listen-client-urls={client}", f"--advertise-client-urls={client}",
         f"--listen-peer-urls={peer}", f"--initial-advertise-peer-urls={peer}",
         f"--initial-cluster=backup={peer}", "--log-level=error"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    etcdctl = ("etcdctl", "--endpoints", client)

    def healthy() -> bool:
        assert proc.poll() is None, "etcd exited"
        done = subprocess.run([*etcdctl, "endpoint", "health"], capture_output=True, check=False)
        return done.returncode == 0

    try:
        wait_for("etcd healthy", healthy, timeout=120, interval=0.2)
        subprocess.run([*etcdctl, "put", "/registry/demo", "kept"], check=True, capture_output=True)
        yield etcdctl
    finally:
        proc.terminate()
        proc.wait(timeout=60)


def _status(path: Path) -> dict[str, int]:
    out = subprocess.run(
        ["etcdctl", "snapshot", "status", "-w", "json", str(path)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return dict(json.loads(out))


def test_verified_snapshots_private_and_rotated(etcd: tuple[str, ...], tmp_path: Path) -> None:
    target = tmp_path / "backups"
    target.mkdir(mode=0o755)
    (target / "notes.txt").write_text("the operator's own file")
    (target / ".etcd-20200101T000000Z.db.part").write_bytes(b"killed half-way")
    stamps = [1_700_000_000.0, 1_700_000_000.0, 1_700_000_100.0]  # 2023-11-14T22:13:20Z
    lines = [program.backup(str(target), 2, etcd, now=t) for t in stamps]

    assert stat.S_IMODE(target.stat().st_mode) == 0o700
    names = sorted(p.name for p in target.iterdir())
    # two runs in one second get distinct names; the oldest of three is rotated out; the
    # operator's file stays, a killed run's partial file goes
    assert names == [
        "etcd-20231114T221320Z-1.db",
        "etcd-20231114T221320Z-1.db.sha256",
        "etcd-20231114T221500Z.db",
        "etcd-20231114T221500Z.db.sha256",
        "notes.txt",
    ]
    for db in target.glob("*.db"):
        assert stat.S_IMODE(db.stat().st_mode) == 0o600
        assert stat.S_IMODE(Path(f"{db}.sha256").stat().st_mode) == 0o600
        digest = hashlib.sha256(db.read_bytes()).hexdigest()
        assert Path(f"{db}.sha256").read_text() == f"{digest}  {db.name}\n"
        assert _status(db)["totalKey"] >= 1  # real etcdctl reads it back
    assert "removed 1" in lines[2] and "keys" in lines[2] and "revision" in lines[2]


def test_a_failed_snapshot_leaves_nothing_and_exits_1(tmp_path: Path) -> None:
    """No etcd answers: BackupFailed naming the command, no file kept; the program itself
    (kubeadm's certificates are not on this machine) says why and exits 1."""
    target = tmp_path / "backups"
    nobody = ("etcdctl", "--endpoints", "http://127.0.0.1:9", "--dial-timeout", "1s",
              "--command-timeout", "2s")  # fmt: skip
    with pytest.raises(program.BackupFailed, match="etcdctl snapshot save: exit status"):
        program.backup(str(target), 1, nobody)
    assert list(target.iterdir()) == []
    script = str(Path(program.__file__))
    done = subprocess.run(
        [sys.executable, script, "--dir", str(target), "--keep", "1"],
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert done.returncode == 1
    assert done.stderr.startswith("sealer-etcd-backup: failed: etcdctl snapshot save")
    assert list(target.iterdir()) == []
    refused = subprocess.run(
        [sys.executable, script, "--dir", str(target), "--keep", "0"],
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert refused.returncode == 2 and "--keep at least 1" in refused.stderr


def test_rotation_keeps_the_newest_and_only_snapshots() -> None:
    names = [
        "etcd-20261201T000000Z.db", "etcd-20261201T000000Z.db.sha256",
        "etcd-20261202T000000Z.db", "etcd-20261202T000000Z.db.sha256",
        "etcd-20261202T000000Z-1.db", "etcd-20261130T000000Z.db",
        "other.db", "etcd-latest.db",
    ]  # fmt: skip
    assert program.to_remove(names, 2) == [
        "etcd-20261201T000000Z.db",
        "etcd-20261130T000000Z.db",
        "etcd-20261201T000000Z.db.sha256",
    ]
    assert program.to_remove(names, 10) == []
    assert program.parse_status('{"hash":1,"revision":2,"totalKey":3,"totalSize":4}') == (1, 2, 3)
