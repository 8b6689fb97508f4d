"""The package on the workstation: downloads checked against their sha256, redirects kept to
one scheme, the cache re-verified, and archives whose members lead out of kube/ refused before
anything is uploaded (a real local HTTP server, real tar files)."""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from sealer.offline_package import PackageError, prepare_package
from sealer.spec.model import Package

VERSION = "v1.29.3"


def _add(tar: tarfile.TarFile, name: str, data: bytes = b"", **attrs: object) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    for key, value in attrs.items():
        setattr(info, key, value)
    tar.addfile(info, io.BytesIO(data) if data else None)


def build(
    path: Path, *extra: tuple[str, dict[str, object]], metadata: dict[str, object] | None = None
) -> Path:
    meta = json.dumps(metadata or {"k8sVersion": VERSION, "arch": "amd64"}).encode()
    with tarfile.open(path, "w:gz") as tar:
        _add(tar, "kube", type=tarfile.DIRTYPE, mode=0o755)
        _add(tar, "kube/Metadata", meta)
        _add(tar, "kube/bin/kubeadm", b"#!/bin/sh\n", mode=0o777, uid=1000)
        for name, attrs in extra:
            _add(tar, name, **attrs)  # type: ignore[arg-type]
    return path


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_well_formed_package_is_accepted_with_its_metadata_sums(tmp_path: Path) -> None:
    digest = "c" * 64
    pkg = build(
        tmp_path / "kube.tar.gz",
        metadata={"k8sVersion": VERSION, "sha256sums": {"bin/kubeadm": digest.upper()}},
    )
    local = prepare_package(Package(source=str(pkg)), VERSION, tmp_path / "cache")
    assert local.sha256 == sha(pkg)
    assert local.sha256sums == (("bin/kubeadm", digest),)


@pytest.mark.parametrize(
    ("member", "attrs", "message"),
    [
        ("kube/../etc/cron.d/x", {}, "member 'kube/../etc/cron.d/x' has a '..' component"),
        ("/etc/passwd", {}, "member '/etc/passwd' has an absolute path"),
        ("etc/shadow", {}, "member 'etc/shadow' is outside kube/"),
        (
            "kube/bin/evil",
            {"type": tarfile.SYMTYPE, "linkname": "../../usr/bin"},
            "member 'kube/bin/evil' is a symbolic link to '../../usr/bin', outside kube/",
        ),
        (
            "kube/bin/root",
            {"type": tarfile.SYMTYPE, "linkname": "/root"},
            "member 'kube/bin/root' is a symbolic link to '/root', outside kube/",
        ),
        (
            "kube/bin/hard",
            {"type": tarfile.LNKTYPE, "linkname": "etc/passwd"},
            "member 'kube/bin/hard' is a hard link to 'etc/passwd', outside kube/",
        ),
        (
            "kube/dev/sda",
            {"type": tarfile.BLKTYPE},
            "member 'kube/dev/sda' is a device file or FIFO",
        ),
    ],
)
def test_members_leading_out_of_kube_are_refused_by_name(
    tmp_path: Path, member: str, attrs: dict[str, object], message: str
) -> None:
    pkg = build(tmp_path / "kube.tar.gz", (member, attrs))
    with pytest.raises(PackageError) as refused:
        prepare_package(Package(source=str(pkg)), VERSION, tmp_path / "cache")
    assert message in str(refused.value)
    assert "refuses to unpack it on the hosts" in str(refused.value)


def test_a_link_inside_kube_is_accepted(tmp_path: Path) -> None:
    pkg = build(
        tmp_path / "kube.tar.gz",
        ("kube/bin/kubeadm-link", {"type": tarfile.SYMTYPE, "linkname": "kubeadm"}),
        ("kube/conf/up", {"type": tarfile.SYMTYPE, "linkname": "../bin/kubeadm"}),
    )
    prepare_package(Package(source=str(pkg)), VERSION, tmp_path / "cache")


def test_metadata_sums_of_files_the_package_lacks_are_refused(tmp_path: Path) -> None:
    pkg = build(
        tmp_path / "kube.tar.gz",
        metadata={"k8sVersion": VERSION, "sha256sums": {"bin/kubelet": "d" * 64}},
    )
    with pytest.raises(PackageError, match="lists the sha256 of bin/kubelet, which the package"):
        prepare_package(Package(source=str(pkg)), VERSION, tmp_path / "cache")


def test_malformed_metadata_sums_are_refused(tmp_path: Path) -> None:
    pkg = build(
        tmp_path / "kube.tar.gz",
        metadata={"k8sVersion": VERSION, "sha256sums": {"../x": "d" * 64}},
    )
    with pytest.raises(PackageError, match=r"sha256sums names '\.\./x', not a path inside kube/"):
        prepare_package(Package(source=str(pkg)), VERSION, tmp_path / "cache")


# -- downloads ------------------------------------------------------------------------------


class Served:
    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.redirects: dict[str, str] = {}
        self.hits: list[str] = []


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Served]]:
    served = Served()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            served.hits.append(self.path)
            if self.path in served.redirects:
                self.send_response(302)
                self.send_header("Location", served.redirects[self.path])
                self.end_headers()
                return
            body = served.files.get(self.path)
            if body is None:
                self.send_response(404)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", served
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_a_download_is_checked_cached_by_sha256_and_verified_again_on_use(
    tmp_path: Path, server: tuple[str, Served]
) -> None:
    base, served = server
    data = build(tmp_path / "kube.tar.gz").read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    served.files["/kube1.29.3.tar.gz"] = data
    cache = tmp_path / "cache"
    spec = Package(source=f"{base}/kube1.29.3.tar.gz", sha256=digest)

    first = prepare_package(spec, VERSION, cache)
    assert first.path == cache / "downloads" / digest / "kube1.29.3.tar.gz"
    prepare_package(spec, VERSION, cache)
    assert served.hits == ["/kube1.29.3.tar.gz"]  # the second run used the cache

    first.path.write_bytes(data[:20] + bytes([data[20] ^ 1]) + data[21:])  # tampered with
    again = prepare_package(spec, VERSION, cache)
    assert sha(again.path) == digest
    assert served.hits == ["/kube1.29.3.tar.gz"] * 2


def test_a_download_with_another_sha256_is_refused_and_not_kept(
    tmp_path: Path, server: tuple[str, Served]
) -> None:
    base, served = server
    served.files["/kube.tar.gz"] = build(tmp_path / "kube.tar.gz").read_bytes()
    cache = tmp_path / "cache"
    expected = "e" * 64
    with pytest.raises(PackageError, match=f"the Clusterfile expects {expected}; it was not kept"):
        prepare_package(Package(source=f"{base}/kube.tar.gz", sha256=expected), VERSION, cache)
    assert list((cache / "downloads" / expected).iterdir()) == []


def test_a_redirect_to_another_scheme_is_refused(
    tmp_path: Path, server: tuple[str, Served]
) -> None:
    base, served = server
    served.redirects["/kube.tar.gz"] = "https://127.0.0.1:1/kube.tar.gz"
    spec = Package(source=f"{base}/kube.tar.gz", sha256="f" * 64)
    with pytest.raises(PackageError) as refused:
        prepare_package(spec, VERSION, tmp_path / "cache")
    assert "another scheme (http -> https)" in str(refused.value)
    assert served.hits == ["/kube.tar.gz"]


def test_a_redirect_within_the_scheme_is_followed(
    tmp_path: Path, server: tuple[str, Served]
) -> None:
    base, served = server
    data = build(tmp_path / "kube.tar.gz").read_bytes()
    served.files["/real.tar.gz"] = data
    served.redirects["/kube.tar.gz"] = f"{base}/real.tar.gz"
    spec = Package(source=f"{base}/kube.tar.gz", sha256=hashlib.sha256(data).hexdigest())
    prepare_package(spec, VERSION, tmp_path / "cache")
    assert served.hits == ["/kube.tar.gz", "/real.tar.gz"]


def test_apply_refuses_an_evil_package_before_touching_any_host(tmp_path: Path) -> None:
    """`sealer apply` names the member and stops before it connects anywhere (192.0.2.1 is a
    documentation address: a connection attempt would fail with another error)."""
    pkg = build(
        tmp_path / "kube1.29.3.tar.gz",
        ("kube/bin/evil", {"type": tarfile.SYMTYPE, "linkname": "../../etc/cron.d"}),
    )
    clusterfile = tmp_path / "cluster.yaml"
    clusterfile.write_text(
        "apiVersion: sealer.dev/v1alpha1\nkind: Cluster\nmetadata:\n  name: demo\nspec:\n"
        f"  version: {VERSION}\n  masters: [192.0.2.1]\n  package: {pkg}\n"
        "  ssh:\n    privateKey: /nonexistent/id_ed25519\n"
    )
    env = {**os.environ, "XDG_STATE_HOME": str(tmp_path / "state"), "NO_COLOR": "1",
           "XDG_CACHE_HOME": str(tmp_path / "cache")}  # fmt: skip
    run = subprocess.run(
        [sys.executable, "-m", "sealer", "apply", "-f", str(clusterfile), "--yes"],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip
    assert run.returncode == 1, run.stdout + run.stderr
    assert "member 'kube/bin/evil' is a symbolic link to '../../etc/cron.d', outside kube/" in (
        run.stderr
    )
    assert "Traceback" not in run.stderr and "192.0.2.1" not in run.stderr
