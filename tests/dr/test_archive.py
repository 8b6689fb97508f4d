"""The backup archive (pure): contents, sha256 sums, encryption, the file and its rotation."""

from __future__ import annotations

import datetime as dt
import io
import json
import stat
import tarfile
from pathlib import Path

import pytest

from sealer.dr import ArchiveError
from sealer.dr.archive import (
    Archive,
    EtcdInfo,
    EtcdMemberRecord,
    archive_name,
    pack,
    read_archive,
    rotate,
    unpack,
    write_archive,
)
from sealer.dr.crypt import MAGIC, WrongPassphrase, decrypt, encrypt

ARCHIVE = Archive(
    cluster="prod",
    uid="0b7c4c38-3e7a-4f55-9d8e-5b0e5b1f9a11",
    created="2026-12-02T04:00:00Z",
    kubernetes_version="v1.29.3",
    sealer_version="0.1.0",
    etcd=EtcdInfo(
        revision=1187,
        hash=3280519337,
        keys=642,
        size=9,
        etcdctl_version="3.4.23",
        taken_on="prod-master-1 (10.0.0.2)",
        members=(EtcdMemberRecord("prod-master-1", "https://10.0.0.2:2380"),),
    ),
    snapshot=b"snapshot!",
    pki={"pki/ca.crt": b"CERT", "pki/ca.key": b"KEY", "pki/sa.key": b"SA"},
    identity=b'{"name": "prod"}',
    clusterfile=b"kind: Cluster\n",
)


def _members(data: bytes) -> dict[str, bytes]:
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers()}  # type: ignore[union-attr]


def _repack(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def test_round_trip_keeps_everything_and_lists_sha256_sums() -> None:
    data = pack(ARCHIVE)
    files = _members(data)
    assert next(iter(files)) == "manifest.json"
    manifest = json.loads(files["manifest.json"])
    assert manifest["cluster"] == {"name": "prod", "uid": ARCHIVE.uid}
    assert manifest["versions"] == {"kubernetes": "v1.29.3", "sealer": "0.1.0",
                                    "etcdctl": "3.4.23"}  # fmt: skip
    assert manifest["etcd"]["revision"] == 1187 and manifest["etcd"]["keys"] == 642
    assert set(manifest["files"]) == {"etcd/snapshot.db", "cluster.json", "Clusterfile.yaml",
                                      "kubernetes/pki/ca.crt", "kubernetes/pki/ca.key",
                                      "kubernetes/pki/sa.key"}  # fmt: skip
    assert unpack(data, "a") == ARCHIVE


def test_a_changed_file_is_refused_by_name() -> None:
    files = _members(pack(ARCHIVE))
    files["kubernetes/pki/ca.key"] = b"OTHER KEY"
    with pytest.raises(ArchiveError, match=r"^a: kubernetes/pki/ca.key does not match its sha256"):
        unpack(_repack(files), "a")


def test_a_missing_or_extra_file_is_refused() -> None:
    files = _members(pack(ARCHIVE))
    del files["etcd/snapshot.db"]
    with pytest.raises(
        ArchiveError, match=r"etcd/snapshot\.db is listed in the manifest but missing"
    ):
        unpack(_repack(files), "a")
    files = _members(pack(ARCHIVE))
    files["extra"] = b"x"
    with pytest.raises(ArchiveError, match="files not in the manifest: extra"):
        unpack(_repack(files), "a")


def test_not_an_archive() -> None:
    with pytest.raises(ArchiveError, match=r"^x: not a sealer backup archive"):
        unpack(b"hello", "x")


def test_encryption_round_trip_and_wrong_passphrase() -> None:
    sealed = encrypt(b"secret data", "pass")
    assert sealed.startswith(MAGIC) and b"secret data" not in sealed
    assert decrypt(sealed, "pass") == b"secret data"
    with pytest.raises(WrongPassphrase, match="wrong passphrase"):
        decrypt(sealed, "other")
    tampered = bytearray(sealed)
    tampered[-1] ^= 1
    with pytest.raises(WrongPassphrase):
        decrypt(bytes(tampered), "pass")
    salted = bytearray(sealed)
    salted[len(MAGIC)] ^= 1  # the salt is authenticated too
    with pytest.raises(WrongPassphrase):
        decrypt(bytes(salted), "pass")


def test_written_0600_and_read_back_plain_and_encrypted(tmp_path: Path) -> None:
    when = dt.datetime(2026, 12, 2, 4, 0, 0, tzinfo=dt.UTC)
    plain = write_archive(tmp_path / "b", archive_name("prod", when, encrypted=False), ARCHIVE,
                          None)  # fmt: skip
    assert plain.name == "sealer-backup-prod-20261202T040000Z.tar.gz"
    assert stat.S_IMODE(plain.stat().st_mode) == 0o600
    assert stat.S_IMODE(plain.parent.stat().st_mode) == 0o700
    assert read_archive(plain, None) == ARCHIVE
    enc = write_archive(tmp_path / "b", archive_name("prod", when, encrypted=True), ARCHIVE, "pw")
    assert enc.name.endswith(".tar.gz.enc")
    assert read_archive(enc, "pw") == ARCHIVE
    with pytest.raises(ArchiveError, match="cannot decrypt the archive: wrong passphrase") as bad:
        read_archive(enc, "nope")
    assert bad.value.hint == "nothing was changed"
    with pytest.raises(ArchiveError, match="the archive is encrypted") as missing:
        read_archive(enc, None)
    assert "--passphrase-env" in (missing.value.hint or "")
    with pytest.raises(ArchiveError, match="cannot read the archive"):
        read_archive(tmp_path / "absent.tar.gz", None)


def test_rotation_keeps_the_newest_of_this_cluster_only(tmp_path: Path) -> None:
    names = [
        "sealer-backup-prod-20261201T000000Z.tar.gz",
        "sealer-backup-prod-20261202T000000Z.tar.gz.enc",
        "sealer-backup-prod-20261203T000000Z.tar.gz",
        "sealer-backup-prod-2-20261130T000000Z.tar.gz",  # another cluster, "prod-2"
        "notes.txt",
    ]
    for name in names:
        (tmp_path / name).write_bytes(b"x")
    removed = rotate(tmp_path, "prod", 2)
    assert [p.name for p in removed] == [names[0]]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(names[1:])
