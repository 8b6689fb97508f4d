"""The offline package: layout, reproducibility, the emulated binaries run."""

from __future__ import annotations

import hashlib
import json
import subprocess
import tarfile
import tomllib
from pathlib import Path

import pytest

from sealer.errors import LabError
from sealer.kube.addon import kubeadm_images, manifest_images
from sealer.offline_package import PackageError, prepare_cluster_package
from sealer.spec.model import Cluster
from sealer_lab.package import build_package, package_name, sha256


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_package("v1.29.3", tmp_path_factory.mktemp("pkg"))


def test_layout_and_metadata(package: Path, tmp_path: Path) -> None:
    assert package.name == package_name("v1.29.3") == "kube1.29.3.tar.gz"
    with tarfile.open(package) as tar:
        names = set(tar.getnames())
        tar.extractall(tmp_path, filter="data")
    for required in (
        "kube/bin/kubeadm",
        "kube/bin/kubelet",
        "kube/bin/kubectl",
        "kube/bin/containerd",
        "kube/bin/crictl",
        "kube/conf/containerd.service",
        "kube/conf/containerd/config.toml",
        "kube/conf/crictl.yaml",
        "kube/conf/kubelet.service",
        "kube/conf/10-kubeadm.conf",
        "kube/images/images.tar",
        "kube/shell/init.sh",
        "kube/manifests/calico.yaml",
        "kube/manifests/flannel.yaml",
        "kube/Metadata",
    ):
        assert required in names
    meta = json.loads((tmp_path / "kube/Metadata").read_text())
    assert meta["k8sVersion"] == "v1.29.3" and meta["arch"] == "amd64"
    assert "registry.k8s.io/etcd:3.5.12-0" in meta["images"]
    with tarfile.open(tmp_path / "kube/images/images.tar") as images:
        listed = images.extractfile("images.txt")
        assert listed is not None
        assert "registry.k8s.io/kube-apiserver:v1.29.3" in listed.read().decode()
    assert (tmp_path / "kube/bin/kubectl").read_bytes()[:4] == b"\x7fELF"
    subprocess.run(["bash", "-n", str(tmp_path / "kube/shell/init.sh")], check=True)
    out = subprocess.run(
        [str(tmp_path / "kube/bin/kubeadm"), "version", "-o", "short"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "v1.29.3"
    out = subprocess.run(
        [str(tmp_path / "kube/bin/kubelet"), "--version"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "Kubernetes v1.29.3"
    out = subprocess.run(
        [str(tmp_path / "kube/bin/containerd"), "--version"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.startswith("containerd github.com/containerd/containerd v1.")
    config = tomllib.loads((tmp_path / "kube/conf/containerd/config.toml").read_text())
    assert config["version"] == 2
    assert config["grpc"]["address"] == "/run/containerd/containerd.sock"
    cri = config["plugins"]["io.containerd.grpc.v1.cri"]
    assert cri["sandbox_image"] == "registry.k8s.io/pause:3.9"
    assert "disabled_plugins" not in config
    bad = subprocess.run(
        [str(tmp_path / "kube/bin/kubeadm"), "init", "--nope"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode == 1
    assert bad.stderr.splitlines()[0] == "unknown flag: --nope"
    assert "To see the stack trace of this error execute with --v=5 or higher" in bad.stderr


def test_same_version_and_code_give_the_same_bytes(package: Path, tmp_path: Path) -> None:
    again = build_package("v1.29.3", tmp_path / "again.tar.gz")
    assert sha256(again) == sha256(package)


def test_unknown_version_is_refused(tmp_path: Path) -> None:
    with pytest.raises(LabError, match="not a Kubernetes version the lab can emulate"):
        build_package("v1.12.0", tmp_path)


def test_entries_are_a_careless_builders_and_metadata_lists_the_sums(package: Path) -> None:
    """uid 1000 and group/world-writable modes, which installing as root must not keep; the
    programs' and init.sh's sha256 in Metadata, which sealer checks on the hosts."""
    with tarfile.open(package) as tar:
        members = tar.getmembers()
        meta = json.loads(tar.extractfile("kube/Metadata").read())  # type: ignore[union-attr]
        contents = {
            m.name.removeprefix("kube/"): tar.extractfile(m).read()  # type: ignore[union-attr]
            for m in members
            if m.isfile()
        }
    assert {(m.uid, m.gid) for m in members} == {(1000, 1000)}
    assert {m.mode for m in members if m.isdir()} == {0o777}
    assert tar_mode(members, "kube/shell/init.sh") == tar_mode(members, "kube/bin/kubeadm") == 0o777
    assert tar_mode(members, "kube/conf/kubelet.service") == 0o666
    sums = meta["sha256sums"]
    assert set(sums) == {
        "bin/kubeadm",
        "bin/kubelet",
        "bin/kubectl",
        "bin/containerd",
        "bin/crictl",
        "conf/containerd/config.toml",
        "shell/init.sh",
        "manifests/calico.yaml",
        "manifests/flannel.yaml",
    }
    for path, digest in sums.items():
        assert hashlib.sha256(contents[path]).hexdigest() == digest, path


def test_a_broken_runtime_package_differs_only_in_containerd_s_configuration(
    package: Path, tmp_path: Path
) -> None:
    broken = build_package("v1.29.3", tmp_path, broken_runtime=True)

    def files(path: Path) -> dict[str, bytes]:
        with tarfile.open(path) as tar:
            return {
                m.name: tar.extractfile(m).read()  # type: ignore[union-attr]
                for m in tar.getmembers()
                if m.isfile()
            }

    good, bad = files(package), files(broken)
    differ = {name for name in good if good[name] != bad.get(name)}
    assert set(bad) == set(good)
    assert differ == {"kube/conf/containerd/config.toml", "kube/Metadata"}
    config = tomllib.loads(bad["kube/conf/containerd/config.toml"].decode())
    assert config["disabled_plugins"] == ["cri"]
    sums = json.loads(bad["kube/Metadata"])["sha256sums"]
    digest = hashlib.sha256(bad["kube/conf/containerd/config.toml"]).hexdigest()
    assert sums["conf/containerd/config.toml"] == digest


def tar_mode(members: list[tarfile.TarInfo], name: str) -> int:
    return next(m.mode for m in members if m.name == name)


def test_package_lists_every_image_and_carries_the_add_ons(package: Path, tmp_path: Path) -> None:
    """The images kubeadm's emulator reports (`kubeadm config images list`) and the add-ons'
    images are in Metadata and images.tar; sealer finds nothing missing and renders the
    default add-on (calico) with the pod CIDR."""
    with tarfile.open(package) as tar:
        tar.extractall(tmp_path, filter="data")
    meta = json.loads((tmp_path / "kube/Metadata").read_text())
    listed = subprocess.run(
        [str(tmp_path / "kube/bin/kubeadm"), "config", "images", "list"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert listed == list(kubeadm_images("v1.29.3") or ())  # sealer's table, kubeadm's answer
    assert set(listed) <= set(meta["images"])
    assert meta["cni"] == {
        "calico": {"manifest": "manifests/calico.yaml", "version": "v3.27.3"},
        "flannel": {"manifest": "manifests/flannel.yaml", "version": "v0.24.2"},
    }
    for addon in ("calico", "flannel"):
        text = (tmp_path / f"kube/manifests/{addon}.yaml").read_text()
        assert "@POD_CIDR@" in text
        assert set(manifest_images(text)) <= set(meta["images"])
    with tarfile.open(tmp_path / "kube/images/images.tar") as images:
        member = images.extractfile("images.txt")
        assert member is not None
        assert member.read().decode().split() == meta["images"]

    local = prepare_cluster_package(lab_cluster(package, "10.244.0.0/16"), tmp_path / "cache")
    assert local.addon is not None and local.addon.type == "calico"
    assert "@POD_CIDR@" not in local.addon.text
    assert '"subnet":"10.244.0.0/16"' in local.addon.text
    assert local.addon.images == ("docker.io/calico/node:v3.27.3",)


def test_a_package_without_an_image_is_refused_naming_it(tmp_path: Path) -> None:
    broken = build_package("v1.29.3", tmp_path / "broken.tar.gz", without_images=("coredns",))
    with pytest.raises(PackageError) as refused:
        prepare_cluster_package(lab_cluster(broken, "100.64.0.0/10"), tmp_path / "cache")
    assert str(refused.value).startswith(
        f"package {broken} lacks 1 image(s) the cluster needs: "
        "registry.k8s.io/coredns/coredns:v1.11.1 (needed by kubeadm v1.29.3). "
        "Nothing was changed on any host"
    )
    with pytest.raises(LabError, match="--without-image nope: the package has no such image"):
        build_package("v1.29.3", tmp_path / "x.tar.gz", without_images=("nope",))


def lab_cluster(package: Path, pod_cidr: str) -> Cluster:
    return Cluster.model_validate(
        {
            "apiVersion": "sealer.dev/v1alpha1",
            "kind": "Cluster",
            "metadata": {"name": "pkg"},
            "spec": {
                "version": "v1.29.3",
                "masters": ["10.0.0.2"],
                "package": str(package),
                "network": {"podCIDR": pod_cidr},
                "ssh": {"password": "x"},
            },
        }
    )
