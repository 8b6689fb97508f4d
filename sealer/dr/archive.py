"""A backup archive: what it holds, its manifest with sha256 sums, and its file on the
workstation (pure: no SSH).

The archive is a gzip-compressed tar (optionally encrypted as a whole, :mod:`sealer.dr.crypt`)::

    manifest.json             format, cluster name and uid, when, versions, etcd's snapshot
                              status (revision, hash, keys) and members, sha256 of every file
    etcd/snapshot.db          ``etcdctl snapshot save`` of a healthy member
    kubernetes/pki/...        the CAs (certificates and keys) and the service-account keys
    cluster.json              the cluster identity (/var/lib/sealer/cluster.json)
    Clusterfile.yaml          the Clusterfile as applied (its text: ``${VAR}`` unexpanded)

It holds CA private keys and every secret of the cluster: it is written 0600 in a 0700
directory, through a temporary name and a rename.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import io
import json
import os
import re
import tarfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sealer.dr import ArchiveError
from sealer.dr.crypt import WrongPassphrase, decrypt, encrypt, is_encrypted
from sealer.workstation import state_home

__all__ = [
    "FORMAT",
    "Archive",
    "EtcdInfo",
    "EtcdMemberRecord",
    "archive_name",
    "backup_dir",
    "pack",
    "read_archive",
    "rotate",
    "unpack",
    "write_archive",
]

FORMAT = 1
MANIFEST = "manifest.json"
SNAPSHOT = "etcd/snapshot.db"
IDENTITY = "cluster.json"
CLUSTERFILE = "Clusterfile.yaml"
PKI_PREFIX = "kubernetes/"
_NAME = re.compile(r"^sealer-backup-(?P<cluster>.+)-(?P<stamp>\d{8}T\d{6}Z)\.tar\.gz(\.enc)?$")


@dataclass(frozen=True)
class EtcdMemberRecord:
    name: str
    peer_url: str


@dataclass(frozen=True)
class EtcdInfo:
    """``etcdctl snapshot status`` of the snapshot, and who it came from."""

    revision: int
    hash: int
    keys: int
    size: int
    etcdctl_version: str
    taken_on: str
    members: tuple[EtcdMemberRecord, ...]


@dataclass(frozen=True)
class Archive:
    cluster: str
    uid: str
    created: str  # RFC 3339 UTC
    kubernetes_version: str
    sealer_version: str
    etcd: EtcdInfo
    snapshot: bytes = field(repr=False)
    pki: Mapping[str, bytes] = field(repr=False)  # relative to /etc/kubernetes
    identity: bytes = field(repr=False)
    clusterfile: bytes = field(repr=False)

    def files(self) -> dict[str, bytes]:
        out = {SNAPSHOT: self.snapshot, IDENTITY: self.identity, CLUSTERFILE: self.clusterfile}
        out.update({PKI_PREFIX + path: data for path, data in sorted(self.pki.items())})
        return out

    def manifest(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "cluster": {"name": self.cluster, "uid": self.uid},
            "created": self.created,
            "versions": {
                "kubernetes": self.kubernetes_version,
                "sealer": self.sealer_version,
                "etcdctl": self.etcd.etcdctl_version,
            },
            "etcd": {
                "revision": self.etcd.revision,
                "hash": self.etcd.hash,
                "keys": self.etcd.keys,
                "size": self.etcd.size,
                "taken_on": self.etcd.taken_on,
                "members": [dataclasses.asdict(m) for m in self.etcd.members],
            },
            "files": {
                name: {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
                for name, data in self.files().items()
            },
        }


def pack(archive: Archive) -> bytes:
    """The tar.gz of ``archive``, manifest first."""
    buffer = io.BytesIO()
    created = dt.datetime.fromisoformat(archive.created.replace("Z", "+00:00")).timestamp()
    members = {MANIFEST: json.dumps(archive.manifest(), indent=2).encode() + b"\n"}
    members.update(archive.files())
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o600
            info.mtime = int(created)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _bad(where: str, message: str) -> ArchiveError:
    return ArchiveError(f"{where}: {message}", hint="nothing was changed")


def unpack(data: bytes, where: str) -> Archive:
    """Read a (decrypted) archive and check every file against the manifest's sha256."""
    files: dict[str, bytes] = {}
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
            for info in tar.getmembers():
                if not info.isfile():
                    raise _bad(where, f"unexpected entry {info.name!r} in the archive")
                handle = tar.extractfile(info)
                assert handle is not None
                files[info.name] = handle.read()
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise _bad(where, f"not a sealer backup archive (tar.gz): {exc}") from None
    if MANIFEST not in files:
        raise _bad(where, "the archive has no manifest.json")
    try:
        manifest = json.loads(files.pop(MANIFEST))
        if manifest.get("format") != FORMAT:
            raise _bad(where, f"archive format {manifest.get('format')!r}, sealer reads {FORMAT}")
        listed: dict[str, Any] = manifest["files"]
        for name, entry in listed.items():
            if name not in files:
                raise _bad(where, f"{name} is listed in the manifest but missing")
            if hashlib.sha256(files[name]).hexdigest() != entry["sha256"]:
                raise _bad(where, f"{name} does not match its sha256 in the manifest")
        extra = sorted(set(files) - set(listed))
        if extra:
            raise _bad(where, f"files not in the manifest: {', '.join(extra)}")
        etcd = manifest["etcd"]
        versions = manifest["versions"]
        return Archive(
            cluster=str(manifest["cluster"]["name"]),
            uid=str(manifest["cluster"]["uid"]),
            created=str(manifest["created"]),
            kubernetes_version=str(versions["kubernetes"]),
            sealer_version=str(versions["sealer"]),
            etcd=EtcdInfo(
                revision=int(etcd["revision"]),
                hash=int(etcd["hash"]),
                keys=int(etcd["keys"]),
                size=int(etcd["size"]),
                etcdctl_version=str(versions["etcdctl"]),
                taken_on=str(etcd["taken_on"]),
                members=tuple(
                    EtcdMemberRecord(str(m["name"]), str(m["peer_url"])) for m in etcd["members"]
                ),
            ),
            snapshot=files[SNAPSHOT],
            pki={
                n.removeprefix(PKI_PREFIX): d for n, d in files.items() if n.startswith(PKI_PREFIX)
            },
            identity=files[IDENTITY],
            clusterfile=files[CLUSTERFILE],
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        if isinstance(exc, ArchiveError):
            raise
        raise _bad(where, f"the manifest is not understood ({type(exc).__name__}: {exc})") from None


def read_archive(path: Path, passphrase: str | None) -> Archive:
    """Read, decrypt (when encrypted) and check the archive at ``path``."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ArchiveError(f"{path}: cannot read the archive: {exc.strerror}") from None
    if is_encrypted(data):
        if passphrase is None:
            raise ArchiveError(
                f"{path}: the archive is encrypted",
                hint="put its passphrase in an environment variable and name it with "
                "--passphrase-env VAR; nothing was changed",
            )
        try:
            data = decrypt(data, passphrase)
        except WrongPassphrase as exc:
            raise ArchiveError(
                f"{path}: cannot decrypt the archive: {exc}", hint="nothing was changed"
            ) from None
    return unpack(data, str(path))


def backup_dir(cluster: str) -> Path:
    """The default directory of a cluster's archives on the workstation."""
    return state_home() / "backups" / cluster


def archive_name(cluster: str, when: dt.datetime, *, encrypted: bool) -> str:
    stamp = when.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"sealer-backup-{cluster}-{stamp}.tar.gz" + (".enc" if encrypted else "")


def write_archive(directory: Path, name: str, archive: Archive, passphrase: str | None) -> Path:
    """Write the archive 0600 (directory 0700) through a temporary name; return its path."""
    data = pack(archive)
    if passphrase is not None:
        data = encrypt(data, passphrase)
    try:
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = directory / name
        partial = directory / f".{name}.partial"
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.fchmod(fd, 0o600)
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(partial, path)
    except OSError as exc:
        raise ArchiveError(f"{directory}: cannot write the archive: {exc.strerror}") from None
    return path


def rotate(directory: Path, cluster: str, keep: int) -> list[Path]:
    """Remove all but the newest ``keep`` archives of ``cluster`` in ``directory``."""
    if keep < 1:
        raise ValueError("keep must be at least 1")
    ours = []
    for path in directory.iterdir():
        match = _NAME.match(path.name)
        if match and match.group("cluster") == cluster:
            ours.append((match.group("stamp"), path.name, path))
    ours.sort()
    old = [path for _, _, path in ours[:-keep]]
    for path in old:
        path.unlink()
    return old
