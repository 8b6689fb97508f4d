"""Bounded inputs: the Clusterfile's size is checked before it is parsed."""

from __future__ import annotations

from pathlib import Path

import pytest

from sealer.spec.load import MAX_FILE_BYTES
from tests.spec.conftest import CliRunner

HEAD = """apiVersion: sealer.dev/v1alpha1
kind: Cluster
metadata:
  name: demo
spec:
  version: v1.29.3
  masters: [10.0.0.11]
  package: /opt/kube1.29.3.tar.gz
  ssh:
    privateKey: /root/.ssh/id_ed25519
"""


def _file(tmp_path: Path, size: int) -> Path:
    path = tmp_path / "big.yaml"
    padding = size - len(HEAD)
    path.write_text(HEAD + "#" * (padding - 1) + "\n")
    assert path.stat().st_size == size
    return path


def test_a_file_over_one_mebibyte_is_refused_unread(
    tmp_path: Path, cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    _file(tmp_path, MAX_FILE_BYTES + 1)
    run = cli(["validate", "-f", "big.yaml"])
    assert run.code == 1
    assert run.err_lines == [
        "error: big.yaml:1:1: the file is larger than 1048576 bytes (1 MiB), the most a "
        "Clusterfile may hold (they are a few kilobytes): not read further",
        "1 error found",
    ]


def test_a_file_of_exactly_one_mebibyte_is_read(
    tmp_path: Path, cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    _file(tmp_path, MAX_FILE_BYTES)
    run = cli(["validate", "-f", "big.yaml"])
    assert run.code == 0, run.err
