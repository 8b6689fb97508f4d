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
