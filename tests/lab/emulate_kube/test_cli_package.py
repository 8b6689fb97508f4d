"""``sealer lab package`` through its registrar (the lead hooks it under ``sealer lab``)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from sealer.cli.render import Ui
from sealer_lab.cli_package import register_lab
from sealer_lab.package import sha256


def test_lab_package_command_writes_the_package_and_reports_its_digest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    parser = argparse.ArgumentParser(prog="sealer lab")
    register_lab(parser.add_subparsers(dest="lab_command"))
    out = tmp_path / "kube.tgz"
    args = parser.parse_args(["package", "--version", "v1.30.2", "-o", str(out), "-O", "json"])
    assert args.handler(args, Ui.from_environment(output="json")) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["path"] == str(out) and report["version"] == "v1.30.2"
    assert report["sha256"] == sha256(out) and report["size"] == out.stat().st_size


@pytest.mark.parametrize("version", ["v1.29.3", "v1.30.2", "v1.31.0"])
def test_the_upgrade_path_packages_carry_their_version(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], version: str
) -> None:
    """The packages an upgrade goes through: Metadata and the emulated kubeadm and kubelet
    (what ``kubeadm version`` and ``kubelet --version`` report) all say the version."""
    import io
    import tarfile
    import zipfile

    parser = argparse.ArgumentParser(prog="sealer lab")
    register_lab(parser.add_subparsers(dest="lab_command"))
    out = tmp_path / "kube.tgz"
    args = parser.parse_args(["package", "--version", version, "-o", str(out), "-O", "json"])
    assert args.handler(args, Ui.from_environment(output="json")) == 0
    capsys.readouterr()
    with tarfile.open(out) as tar:

        def member(name: str) -> bytes:
            handle = tar.extractfile(f"kube/{name}")
            assert handle is not None
            return handle.read()

        assert json.loads(member("Metadata"))["k8sVersion"] == version
        for program in ("kubeadm", "kubelet"):
            data = member(f"bin/{program}")
            with zipfile.ZipFile(io.BytesIO(data)) as app:
                assert json.loads(app.read("buildinfo.json"))["version"] == version
