"""The offline Kubernetes package on the workstation: fetched once, hashed, its Metadata read.

An http(s) source is downloaded once into the cache and then copied to every host over SFTP
(hosts need no route to the URL: clusters are often air-gapped). It must come with its sha256
(the Clusterfile's rule): the download is checked against it before it enters the cache, the
cache is keyed by it and a cached file is hashed again before each use; a redirect to another
scheme (https -> http) is refused. The sha256 of a local file is cached by (path, size, mtime)
so that `sealer diff` on an unchanged multi-GB package does not hash it again.

Every member of the archive is checked here, on the workstation, before anything is uploaded
(:mod:`sealer.package_members`): a member outside ``kube/`` (absolute, ``..``) or a link
leading out of it is refused by name.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tarfile
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass, replace
from http.client import HTTPMessage
from pathlib import Path
from typing import IO
from urllib.parse import urlparse

from sealer.errors import SealerError
from sealer.kube.addon import (
    DesiredAddon,
    ManifestError,
    kubeadm_images,
    manifest_images,
    render_manifest,
)
from sealer.package_members import ROOT, member_problem, metadata_sums
from sealer.spec.model import Cluster, CniManifest, Package

__all__ = [
    "LocalPackage",
    "PackageError",
    "default_cache_dir",
    "missing_images",
    "prepare_cluster_package",
    "prepare_package",
    "read_package_file",
]

_CHUNK = 1024 * 1024


class PackageError(SealerError):
    """The offline package cannot be found, fetched, verified or read."""


@dataclass(frozen=True)
class LocalPackage:
    """The package as it stands on the workstation, ready to distribute."""

    path: Path
    name: str  # file name on the hosts, e.g. kube1.29.3.tar.gz
    sha256: str
    size: int
    k8s_version: str
    arch: str
    #: Metadata's ``sha256sums`` (path relative to ``kube/``, sha256), checked on the hosts
    #: after unpacking; empty when Metadata has none.
    sha256sums: tuple[tuple[str, str], ...] = ()
    #: The images the package holds, as its Metadata lists them (``images``).
    images: tuple[str, ...] = ()
    #: The add-on names Metadata maps to their manifests (``cni``: name -> {manifest}).
    addons: tuple[tuple[str, str], ...] = ()
    #: The network add-on the Clusterfile asks for, rendered (None: ``cni: none``).
    addon: DesiredAddon | None = None


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    return Path(base) / "sealer"


def _hash_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _cached_sha256(path: Path, cache_dir: Path) -> str:
    stat = path.stat()
    key = f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}"
    index_path = cache_dir / "sha256-index.json"
    index: dict[str, str] = {}
    with contextlib.suppress(OSError, ValueError):
        loaded = json.loads(index_path.read_text())
        if isinstance(loaded, dict):
            index = {str(k): str(v) for k, v in loaded.items()}
    if key in index:
        return index[key]
    digest = _hash_file(path)
    index[key] = digest
    with contextlib.suppress(OSError):
        cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = index_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(index, indent=0))
        tmp.replace(index_path)
    return digest


class _SameSchemeRedirects(urllib.request.HTTPRedirectHandler):
    """Follows a redirect only to the scheme the URL started with (never https -> http)."""

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: HTTPMessage,
        newurl: str,
    ) -> urllib.request.Request | None:
        before, after = urlparse(req.full_url).scheme, urlparse(newurl).scheme
        if after != before:
            raise PackageError(
                f"cannot download the package {req.full_url}: the server redirects to "
                f"{newurl}, another scheme ({before} -> {after}); sealer follows redirects only "
                "within one scheme",
                hint="give the final URL in spec.package.source",
            )
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _download(url: str, cache_dir: Path, expected: str) -> Path:
    """The package at ``url``, from the cache keyed by ``expected`` when a cached copy still
    hashes to it, else downloaded and checked before it enters the cache."""
    name = Path(urlparse(url).path).name or "package.tar.gz"
    target = cache_dir / "downloads" / expected
    final = target / name
    if final.exists() and _hash_file(final) == expected:
        return final
    target.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=target, prefix=".part-")
    opener = urllib.request.build_opener(_SameSchemeRedirects())
    try:
        with os.fdopen(fd, "wb") as out, opener.open(url, timeout=60) as response:
            while chunk := response.read(_CHUNK):
                out.write(chunk)
        got = _hash_file(Path(tmp_name))
        if got != expected:
            raise PackageError(
                f"the package downloaded from {url} has sha256 {got}, the Clusterfile expects "
                f"{expected}; it was not kept"
            )
        os.replace(tmp_name, final)
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        reason = getattr(exc, "reason", exc)
        raise PackageError(f"cannot download the package {url}: {reason}") from None
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
    return final


def read_package_file(path: Path, name: str) -> bytes | None:
    """The file ``kube/NAME`` of the package, None when it has none."""
    wanted = f"kube/{name}"
    try:
        with tarfile.open(path, "r:*") as archive:
            for member in archive:
                if member.name.removeprefix("./") == wanted and member.isfile():
                    handle = archive.extractfile(member)
                    return None if handle is None else handle.read()
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise PackageError(f"{path}: not a readable package tarball ({exc})") from None
    return None


def _without_dot(name: str) -> str:
    while name.startswith("./"):
        name = name[2:]
    return name


def _scan(path: Path, cache_dir: Path, digest: str) -> dict[str, object]:
    """Check every member of the archive (:func:`member_problem`) and return its Metadata.

    A package whose members passed is remembered by sha256 in the cache directory, so an
    unchanged multi-GB package is read to its end only once."""
    checked = cache_dir / "checked" / digest
    metadata: dict[str, object] | None = None
    names: set[str] = set()
    try:
        with tarfile.open(path, "r:*") as archive:
            for member in archive:
                problem = member_problem(member)
                if problem is not None:
                    raise PackageError(
                        f"{path}: {problem}; sealer refuses to unpack it on the hosts",
                        hint="an offline package unpacks to kube/ and nothing else",
                    )
                name = _without_dot(member.name)
                names.add(name)
                if name == f"{ROOT}/Metadata" and member.isfile():
                    handle = archive.extractfile(member)
                    if handle is None:
                        continue
                    data = json.loads(handle.read().decode("utf-8"))
                    if isinstance(data, dict):
                        metadata = data
                if metadata is not None and checked.exists():
                    break
    except (tarfile.TarError, OSError, EOFError) as exc:
        reason = str(exc).splitlines()[0].rstrip(":") if str(exc) else type(exc).__name__
        raise PackageError(
            f"{path}: not a readable package tarball ({reason})",
            hint="the offline package is a .tar.gz that unpacks to kube/ with kube/Metadata",
        ) from None
    except (ValueError, UnicodeDecodeError):
        raise PackageError(f"{path}: kube/Metadata is not valid JSON") from None
    if metadata is None:
        raise PackageError(f"{path}: no kube/Metadata in the package: is this an offline package?")
    if not checked.exists():
        sums = metadata_sums(metadata)
        if isinstance(sums, str):
            raise PackageError(f"{path}: {sums}")
        missing = sorted(p for p in sums if f"{ROOT}/{p}" not in names)
        if missing:
            raise PackageError(
                f"{path}: kube/Metadata lists the sha256 of {', '.join(missing)}, "
                "which the package does not hold"
            )
        with contextlib.suppress(OSError):
            checked.parent.mkdir(parents=True, exist_ok=True)
            checked.touch()
    return metadata


def prepare_package(
    package: Package, expected_version: str, cache_dir: Path | None = None
) -> LocalPackage:
    """Fetch (if a URL), hash and check the package against the Clusterfile."""
    cache_dir = cache_dir or default_cache_dir()
    source = package.source
    if source.startswith(("http://", "https://")):
        if package.sha256 is None:  # the Clusterfile's rule; a caller without it is a bug
            raise PackageError(f"package {source}: a download needs spec.package.sha256")
        path = _download(source, cache_dir, package.sha256)
    else:
        path = Path(source).expanduser()
        if not path.is_file():
            raise PackageError(
                f"package {source}: no such file",
                hint="spec.package.source must name the offline package tarball",
            )
    digest = _cached_sha256(path, cache_dir)
    if package.sha256 is not None and digest != package.sha256:
        raise PackageError(
            f"package {path}: sha256 is {digest}, the Clusterfile expects {package.sha256}"
        )
    metadata = _scan(path, cache_dir, digest)
    sums = metadata_sums(metadata)
    if isinstance(sums, str):
        raise PackageError(f"{path}: {sums}")
    version = str(metadata.get("k8sVersion", ""))
    if version != expected_version:
        raise PackageError(
            f"package {path} holds Kubernetes {version or 'of unknown version'}, "
            f"but the Clusterfile asks for {expected_version}"
        )
    images = metadata.get("images")
    addons = metadata.get("cni")
    return LocalPackage(
        path=path,
        name=path.name,
        sha256=digest,
        size=path.stat().st_size,
        k8s_version=version,
        arch=str(metadata.get("arch", "amd64")),
        sha256sums=tuple(sorted(sums.items())),
        images=tuple(str(i) for i in images) if isinstance(images, list) else (),
        addons=tuple(
            (str(name), str(entry.get("manifest", "")))
            for name, entry in addons.items()
            if isinstance(entry, dict)
        )
        if isinstance(addons, dict)
        else (),
    )


def _addon(local: LocalPackage, cluster: Cluster) -> DesiredAddon | None:
    network = cluster.spec.network
    choice = network.cni
    if choice == "none":
        return None
    if isinstance(choice, CniManifest):
        manifest = choice.manifest
    else:
        manifest = dict(local.addons).get(str(choice), "")
        if not manifest:
            raise PackageError(
                f"package {local.path} has no {choice} add-on (its Metadata cni lists "
                f"{', '.join(n for n, _ in local.addons) or 'none'}), which spec.network.cni "
                "asks for",
                hint="use a package with that add-on, or spec.network.cni: {manifest: PATH}",
            )
    raw = read_package_file(local.path, manifest)
    if raw is None:
        raise PackageError(
            f"package {local.path} has no kube/{manifest}: the manifest of the network "
            f"add-on spec.network.cni ({network.cni_type}) is not in it"
        )
    text = render_manifest(raw.decode("utf-8", errors="replace"), network.pod_cidr)
    try:
        images = manifest_images(text)
    except ManifestError as exc:
        raise PackageError(f"package {local.path}: kube/{manifest} is not YAML: {exc}") from None
    return DesiredAddon(network.cni_type, manifest, text, images)


def missing_images(local: LocalPackage, cluster: Cluster) -> list[tuple[str, str]]:
    """(image, what needs it) for every image the cluster needs that the package lacks."""
    patches = cluster.spec.kubeadm.cluster_configuration
    repository = str(patches.get("imageRepository") or "registry.k8s.io")
    needed: list[tuple[str, str]] = []
    for image in kubeadm_images(cluster.spec.version, repository) or ():
        needed.append((image, f"kubeadm {cluster.spec.version}"))
    if local.addon is not None:
        for image in local.addon.images:
            needed.append((image, f"the {local.addon.type} add-on (kube/{local.addon.manifest})"))
    held = set(local.images)
    return [(image, why) for image, why in needed if image not in held]


def prepare_cluster_package(cluster: Cluster, cache_dir: Path | None = None) -> LocalPackage:
    """:func:`prepare_package`, then the network add-on rendered from it, and every image the
    cluster needs checked to be in it (air-gapped hosts pull nothing): before any host."""
    spec = cluster.spec
    local = prepare_package(spec.package, spec.version, cache_dir)
    local = replace(local, addon=_addon(local, cluster))
    missing = missing_images(local, cluster)
    if missing:
        listed = "; ".join(f"{image} (needed by {why})" for image, why in missing)
        raise PackageError(
            f"package {local.path} lacks {len(missing)} image(s) the cluster needs: {listed}. "
            "Nothing was changed on any host",
            hint="the package's images/ and its Metadata images list must hold every image "
            "kubeadm and the network add-on use (`kubeadm config images list`)",
        )
    return local
