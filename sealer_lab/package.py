"""The lab's Kubernetes offline package: the real layout, with emulated programs.

``build_package(version, dest)`` writes ``kube<version>.tar.gz`` unpacking to ``kube/``::

    kube/bin/{kubeadm,kubelet,kubectl}   kubeadm/kubelet: emulators (Python zip applications);
                                         kubectl: the machine's real kubectl client
    kube/conf/{kubelet.service,10-kubeadm.conf}
    kube/images/images.tar               a real tar listing the image names (nothing to load)
    kube/manifests/{calico,flannel}.yaml the network add-ons (sealer_lab.addons)
    kube/shell/init.sh                   installs binaries and the kubelet unit, enables it
    kube/Metadata                        JSON: version, k8sVersion, arch, cniName, images...,
                                         sha256sums of the programs and init.sh

Every entry is owned by uid/gid 1000 with modes 0777 (directories, programs) and 0666 (other
files), as a package tarred by an ordinary user with a loose umask would be: whoever installs
it as root must keep neither (sealer unpacks with ``--no-same-owner --no-same-permissions``).

The output is byte-for-byte reproducible for a given version, source tree and kubectl binary
(fixed timestamps and owners, sorted entries, gzip header without a time). See
docs/lab-emulation.md.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import sys
import tarfile
import zipfile
from pathlib import Path

from sealer.errors import LabError
from sealer_lab import addons
from sealer_lab.emulate import versions

__all__ = [
    "EMULATED_PROGRAMS",
    "build_package",
    "find_kubectl",
    "install_sbin",
    "package_name",
    "zipapp_bytes",
]

EMULATED_PROGRAMS = ("kubeadm", "kubelet", "containerd", "crictl")
SBIN_PROGRAMS = (
    "systemctl",
    "journalctl",
    "lab-boot",
    *("lsmod", "modprobe", "sysctl", "swapon", "swapoff"),  # sealer_lab/emulate/kernel.py
)
BIN_DIR = "/usr/local/bin"
#: The owner and modes of every entry (see the module's docstring).
BUILDER_UID = 1000
LOOSE_DIR_MODE = LOOSE_PROGRAM_MODE = 0o777
LOOSE_FILE_MODE = 0o666
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_TAR_TIME = 315532800  # 1980-01-01

_LAUNCHER = """#!/bin/sh
# {name}: emulated by sealer's lab (a Python zip application, see docs/lab-emulation.md).
PY="${{SEALER_LAB_PYTHON:-{python}}}"
[ -x "$PY" ] || PY=python3
exec "$PY" "$0" "$@"
"""

_MAIN = '''"""Dispatch on the name this zip application was run as."""
import os
import runpy
import signal
import sys


PROGRAMS = {
    "kubeadm": "sealer_lab.emulate.kubeadm.cli",
    "kubelet": "sealer_lab.emulate.kubelet",
    "containerd": "sealer_lab.emulate.containerd",
    "crictl": "sealer_lab.emulate.crictl",
    "systemctl": "sealer_lab.emulate.systemctl",
    "journalctl": "sealer_lab.emulate.journalctl",
    "lab-boot": "sealer_lab.emulate.labboot",
    "lsmod": "sealer_lab.emulate.kernel",
    "modprobe": "sealer_lab.emulate.kernel",
    "sysctl": "sealer_lab.emulate.kernel",
    "swapon": "sealer_lab.emulate.kernel",
    "swapoff": "sealer_lab.emulate.kernel",
}
name = os.path.basename(sys.argv[0])
module = PROGRAMS.get(name)
if module is None:
    sys.stderr.write(f"{name}: not an emulated program ({', '.join(PROGRAMS)})\\n")
    sys.exit(2)
try:
    runpy.run_module(module, {"PROGRAM": name}, run_name="__main__", alter_sys=True)
except BrokenPipeError:  # stdout closed (| head): end quietly, as Go programs do on SIGPIPE
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    sys.exit(128 + signal.SIGPIPE)
'''

KUBELET_SERVICE = f"""[Unit]
Description=kubelet: The Kubernetes Node Agent
Documentation=https://kubernetes.io/docs/
Wants=network-online.target
After=network-online.target

[Service]
ExecStart={BIN_DIR}/kubelet
Restart=always
StartLimitInterval=0
RestartSec=10

[Install]
WantedBy=multi-user.target
"""

KUBEADM_DROPIN = "\n".join(
    [
        "# Note: This dropin only works with kubeadm and kubelet v1.11+",
        "[Service]",
        'Environment="KUBELET_KUBECONFIG_ARGS=--bootstrap-kubeconfig=/etc/kubernetes/'
        'bootstrap-kubelet.conf --kubeconfig=/etc/kubernetes/kubelet.conf"',
        'Environment="KUBELET_CONFIG_ARGS=--config=/var/lib/kubelet/config.yaml"',
        '# This is a file that "kubeadm init" and "kubeadm join" generates at runtime, '
        "populating the KUBELET_KUBEADM_ARGS variable dynamically",
        "EnvironmentFile=-/var/lib/kubelet/kubeadm-flags.env",
        "# This is a file that the user can use for overrides of the kubelet args as a last "
        "resort. Preferably, the user should use",
        "# the .NodeRegistration.KubeletExtraArgs object in the configuration files instead. "
        "KUBELET_EXTRA_ARGS should be sourced from this file.",
        "EnvironmentFile=-/etc/default/kubelet",
        "ExecStart=",
        f"ExecStart={BIN_DIR}/kubelet $KUBELET_KUBECONFIG_ARGS $KUBELET_CONFIG_ARGS "
        "$KUBELET_KUBEADM_ARGS $KUBELET_EXTRA_ARGS",
        "",
    ]
)

#: containerd's upstream unit (containerd/containerd's containerd.service, without the
#: settings the emulated systemd does not model: Delegate, KillMode=process, Limit*, OOM).
CONTAINERD_SERVICE = f"""[Unit]
Description=containerd container runtime
Documentation=https://containerd.io
After=network.target local-fs.target

[Service]
ExecStart={BIN_DIR}/containerd
Type=notify
Restart=always
RestartSec=5

[Install]
WantedBy=multi-user.target
"""

#: The runtime's configuration (config.toml version 2, the CRI plugin on, the pause image).
CONTAINERD_CONFIG = """version = 2

[grpc]
  address = "/run/containerd/containerd.sock"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "@PAUSE_IMAGE@"
"""

#: A runtime that starts but serves no CRI: the CRI plugin disabled, as the config.toml that
#: Docker's containerd.io package ships (``--broken-runtime``, for the runtime check's test).
BROKEN_CONTAINERD_CONFIG = """version = 2
disabled_plugins = ["cri"]
"""

CRICTL_YAML = """runtime-endpoint: unix:///run/containerd/containerd.sock
image-endpoint: unix:///run/containerd/containerd.sock
timeout: 10
"""

INIT_SH = """#!/bin/bash
# Installs this Kubernetes offline package on the host (sealer lab emulation).
# The real package installs to /usr/bin; in the lab /usr/bin is shared by every host, so
# binaries go to BIN_DIR (default /usr/local/bin, private to each lab host).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN_DIR="${BIN_DIR:-/usr/local/bin}"
UNIT_DIR=/etc/systemd/system

mkdir -p "$BIN_DIR" "$UNIT_DIR/kubelet.service.d" /etc/kubernetes/manifests /var/lib/kubelet \
  /etc/containerd
for b in containerd crictl kubeadm kubelet kubectl; do
  install -m 0755 "bin/$b" "$BIN_DIR/$b.new"
  mv -f "$BIN_DIR/$b.new" "$BIN_DIR/$b"
done
# The container runtime first, as Sealos's containerd.sh: configuration, unit, crictl's endpoint.
install -m 0644 conf/containerd/config.toml /etc/containerd/config.toml
install -m 0644 conf/crictl.yaml /etc/crictl.yaml
sed -e "s#@BIN_DIR@#$BIN_DIR#g" conf/containerd.service > "$UNIT_DIR/containerd.service"
sed -e "s#@BIN_DIR@#$BIN_DIR#g" conf/kubelet.service > "$UNIT_DIR/kubelet.service"
sed -e "s#@BIN_DIR@#$BIN_DIR#g" conf/10-kubeadm.conf > "$UNIT_DIR/kubelet.service.d/10-kubeadm.conf"
# The lab's sysctl keeps the host's own value (sealer_lab/emulate/kernel.py).
sysctl -q -w net.ipv4.ip_forward=1 || true
systemctl daemon-reload
systemctl enable containerd
systemctl restart containerd
systemctl enable kubelet
VERSION=$(sed -n 's/.*"k8sVersion": *"\\([^"]*\\)".*/\\1/p' Metadata)
echo "installed Kubernetes $VERSION into $BIN_DIR"
"""


def package_name(version: str) -> str:
    return f"kube{version.lstrip('v')}.tar.gz"


def _source_files() -> list[tuple[str, Path]]:
    """(name in zip, file) for the emulator code and the bundled ruamel.yaml."""
    import ruamel.yaml

    emulate = Path(__file__).with_name("emulate")
    files: list[tuple[str, Path]] = []
    for path in sorted(emulate.rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        files.append((f"sealer_lab/emulate/{path.relative_to(emulate).as_posix()}", path))
    ruamel_dir = Path(ruamel.yaml.__file__).parent
    for path in sorted(ruamel_dir.glob("*.py")):
        files.append((f"ruamel/yaml/{path.name}", path))
    return files


def zipapp_bytes(name: str, version: str, arch: str = "amd64") -> bytes:
    """A zip application (shell launcher prefix + deterministic zip) for one program."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:

        def add(arcname: str, data: bytes) -> None:
            info = zipfile.ZipInfo(arcname, date_time=_ZIP_TIME)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)

        add("__main__.py", _MAIN.encode())
        add("ruamel/__init__.py", b"")
        add("sealer_lab/__init__.py", b'"""The lab (only its emulated programs are here)."""\n')
        for arcname, path in _source_files():
            add(arcname, path.read_bytes())
        add("buildinfo.json", json.dumps({"version": version, "arch": arch}).encode())
    return _LAUNCHER.format(name=name, python=sys.executable).encode() + buf.getvalue()


def find_kubectl() -> Path:
    """The real kubectl client: /usr/bin/kubectl resolved through symlinks.

    On this machine /usr/bin/kubectl is Google Cloud SDK's version dispatcher; when the binary
    beside it for the package's minor exists (``kubectl.1.29``), :func:`build_package` takes
    that one instead (see docs/lab-emulation.md).
    """
    path = Path(os.environ.get("SEALER_LAB_KUBECTL", "/usr/bin/kubectl")).resolve()
    if not path.is_file():
        raise LabError(
            f"{path}: no kubectl client on this machine; the lab package needs a real kubectl "
            "binary (set SEALER_LAB_KUBECTL to one)"
        )
    with path.open("rb") as fh:
        if fh.read(4) != b"\x7fELF":
            raise LabError(f"{path}: kubectl is not an ELF binary (a wrapper script?)")
    return path


def _kubectl_for(version: versions.Version) -> Path:
    base = find_kubectl()
    sibling = base.with_name(f"kubectl.{version.major}.{version.minor}")
    return sibling if sibling.is_file() else base


def _images_tar(names: list[str]) -> bytes:
    buf = io.BytesIO()
    listing = json.dumps([{"Config": "", "RepoTags": [n], "Layers": []} for n in names], indent=1)
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for arcname, data in (
            ("manifest.json", listing.encode()),
            ("images.txt", ("\n".join(names) + "\n").encode()),
        ):
            info = tarfile.TarInfo(arcname)
            info.size, info.mtime, info.mode = len(data), _TAR_TIME, 0o644
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _metadata(
    version: versions.Version, arch: str, images: list[str], sums: dict[str, str]
) -> bytes:
    data = {
        "version": str(version),
        "k8sVersion": str(version),
        "arch": arch,
        "cniName": addons.CALICO.name,
        "cniVersion": addons.CALICO.version,
        "cni": {a.name: {"manifest": a.manifest, "version": a.version} for a in addons.ADDONS},
        "images": images,
        "emulated": True,
        "binDir": BIN_DIR,
        "sha256sums": sums,
    }
    return (json.dumps(data, indent=2) + "\n").encode()


def _add(tar: tarfile.TarFile, arcname: str, data: bytes | None, mode: int) -> None:
    info = tarfile.TarInfo(arcname)
    info.mtime, info.mode, info.uid, info.gid = _TAR_TIME, mode, BUILDER_UID, BUILDER_UID
    info.uname = info.gname = "builder"
    if data is None:
        info.type = tarfile.DIRTYPE
        tar.addfile(info)
    else:
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))


def build_package(
    version: str,
    dest: Path,
    *,
    without_images: tuple[str, ...] = (),
    manifest_suffix: str = "",
    broken_runtime: bool = False,
) -> Path:
    """Write the offline package for ``version`` to ``dest`` (a file, or a directory to put
    ``kube<version>.tar.gz`` in) and return its path.

    ``without_images`` leaves images out of images/ and Metadata (a broken package, for
    tests: each is an image reference, or a name such as ``coredns`` matching every image
    whose repository ends with it); ``manifest_suffix`` is appended to every add-on manifest
    (a comment line makes a new manifest without changing what it does); ``broken_runtime``
    ships a containerd configuration without the CRI plugin (the runtime starts, its socket
    answers no CRI call: everything else identical, for the runtime check's test)."""
    parsed = versions.parse_version(version)
    if parsed is None or parsed.major != 1 or parsed.minor not in versions.MINORS:
        known = ", ".join(f"1.{m}" for m in versions.MINORS)
        raise LabError(
            f"{version!r}: not a Kubernetes version the lab can emulate (vMAJOR.MINOR.PATCH "
            f"with minor in {known})"
        )
    dest = Path(dest)
    out = dest / package_name(str(parsed)) if dest.is_dir() else dest
    out.parent.mkdir(parents=True, exist_ok=True)
    arch = "amd64"
    images = versions.images(parsed) + [
        image for addon in addons.ADDONS for image in addons.manifest_images(addon.text)
    ]
    for dropped in without_images:
        matching = [i for i in images if _image_matches(i, dropped)]
        if not matching:
            raise LabError(f"--without-image {dropped}: the package has no such image")
        images = [i for i in images if i not in matching]
    kubectl = _kubectl_for(parsed)
    tmp = out.with_name(out.name + ".part")
    with (
        tmp.open("wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=6) as gz,
        tarfile.open(fileobj=gz, mode="w", format=tarfile.GNU_FORMAT) as tar,
    ):
        programs = {name: zipapp_bytes(name, str(parsed), arch) for name in EMULATED_PROGRAMS}
        manifests = {a.manifest: (a.text + manifest_suffix).encode() for a in addons.ADDONS}
        sums = {f"bin/{name}": hashlib.sha256(data).hexdigest() for name, data in programs.items()}
        sums["bin/kubectl"] = sha256(kubectl)
        sums["shell/init.sh"] = hashlib.sha256(INIT_SH.encode()).hexdigest()
        pause = next(i for i in versions.images(parsed) if "/pause:" in i)
        containerd_config = (
            BROKEN_CONTAINERD_CONFIG
            if broken_runtime
            else CONTAINERD_CONFIG.replace("@PAUSE_IMAGE@", pause)
        ).encode()
        sums["conf/containerd/config.toml"] = hashlib.sha256(containerd_config).hexdigest()
        sums.update({name: hashlib.sha256(data).hexdigest() for name, data in manifests.items()})
        dirs = ("kube", "kube/bin", "kube/conf", "kube/conf/containerd", "kube/images")
        for d in (*dirs, "kube/manifests", "kube/shell"):
            _add(tar, d, None, LOOSE_DIR_MODE)
        metadata = _metadata(parsed, arch, images, dict(sorted(sums.items())))
        _add(tar, "kube/Metadata", metadata, LOOSE_FILE_MODE)
        for name, data in programs.items():
            _add(tar, f"kube/bin/{name}", data, LOOSE_PROGRAM_MODE)
        info = tarfile.TarInfo("kube/bin/kubectl")
        info.size, info.mtime, info.mode = kubectl.stat().st_size, _TAR_TIME, LOOSE_PROGRAM_MODE
        info.uid = info.gid = BUILDER_UID
        info.uname = info.gname = "builder"
        with kubectl.open("rb") as fh:
            tar.addfile(info, fh)
        _add(
            tar,
            "kube/conf/containerd.service",
            CONTAINERD_SERVICE.replace(BIN_DIR, "@BIN_DIR@").encode(),
            LOOSE_FILE_MODE,
        )
        _add(tar, "kube/conf/containerd/config.toml", containerd_config, LOOSE_FILE_MODE)
        _add(tar, "kube/conf/crictl.yaml", CRICTL_YAML.encode(), LOOSE_FILE_MODE)
        _add(
            tar,
            "kube/conf/kubelet.service",
            KUBELET_SERVICE.replace(BIN_DIR, "@BIN_DIR@").encode(),
            LOOSE_FILE_MODE,
        )
        _add(
            tar,
            "kube/conf/10-kubeadm.conf",
            KUBEADM_DROPIN.replace(BIN_DIR, "@BIN_DIR@").encode(),
            LOOSE_FILE_MODE,
        )
        _add(tar, "kube/images/images.tar", _images_tar(images), LOOSE_FILE_MODE)
        for name, data in manifests.items():
            _add(tar, f"kube/{name}", data, LOOSE_FILE_MODE)
        _add(tar, "kube/shell/init.sh", INIT_SH.encode(), LOOSE_PROGRAM_MODE)
    os.replace(tmp, out)
    return out


def _image_matches(image: str, name: str) -> bool:
    if image == name:
        return True
    repository = image.rsplit(":", 1)[0]
    return repository == name or repository.endswith(f"/{name}")


def install_sbin(sbin_dir: Path, version: str = "v1.29.3") -> list[Path]:
    """Populate the lab-wide sbin directory with the emulated ``systemctl`` and ``lab-boot``."""
    sbin_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name in SBIN_PROGRAMS:
        path = sbin_dir / name
        tmp = path.with_name(f".{name}.tmp")
        tmp.write_bytes(zipapp_bytes(name, version))
        tmp.chmod(0o755)
        os.replace(tmp, path)
        written.append(path)
    return written


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
