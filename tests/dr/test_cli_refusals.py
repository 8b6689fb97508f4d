"""The dr commands' refusals that need no host: exit 1, one paragraph, nothing touched (the
Clusterfile names a host that does not exist: reaching it would be a connection error). The CLI
runs in this process (``sealer.cli.main``): a subprocess each would cost seconds."""

from __future__ import annotations

from pathlib import Path

import pytest

from sealer.cli import main
from sealer.dr.archive import write_archive
from tests.dr.test_archive import ARCHIVE

CLUSTERFILE = """\
apiVersion: sealer.dev/v1alpha1
kind: Cluster
metadata: {name: prod}
spec:
  version: v1.29.3
  masters: [192.0.2.10]
  package: /nonexistent/kube.tar.gz
  ssh: {privateKey: /nonexistent/key}
"""


def _file(tmp_path: Path) -> str:
    path = tmp_path / "cluster.yaml"
    path.write_text(CLUSTERFILE)
    return str(path)


class Run:
    def __init__(self, capsys: pytest.CaptureFixture[str]) -> None:
        self.capsys = capsys

    def refused(self, text: str, *argv: str) -> None:
        self.capsys.readouterr()
        assert main(list(argv)) == 1
        stderr = self.capsys.readouterr().err
        assert text in " ".join(stderr.split()), stderr
        assert "Traceback" not in stderr and "192.0.2.10" not in stderr


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]) -> Run:
    return Run(capsys)


def test_kubeconfig_flags(tmp_path: Path, run: Run) -> None:
    f = _file(tmp_path)
    run.refused("--group and --ttl need --user", "kubeconfig", "-f", f, "--ttl", "1h")
    run.refused("between 1s and 7d", "kubeconfig", "-f", f, "--user", "dev", "--ttl", "30d")


def test_backup_flags(tmp_path: Path, run: Run) -> None:
    f = _file(tmp_path)
    run.refused("--keep 0: keep at least 1 archive", "backup", "-f", f, "--keep", "0")
    run.refused(
        "the environment variable SEALER_TEST_UNSET_VAR is not set or empty",
        *("backup", "-f", f, "--passphrase-env", "SEALER_TEST_UNSET_VAR"),
    )


def test_restore_checks_the_archive_before_any_host(
    tmp_path: Path, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    f = _file(tmp_path)
    run.refused("cannot read the archive", "restore", "-f", f, "--from", str(tmp_path / "x"))
    other = write_archive(tmp_path, "a.tar.gz", ARCHIVE, None)  # of cluster "prod"
    bad = tmp_path / "bad.tar.gz"
    bad.write_bytes(other.read_bytes()[:-40])
    run.refused("not a sealer backup", "restore", "-f", f, "--from", str(bad), "--yes")
    enc = write_archive(tmp_path, "a.tar.gz.enc", ARCHIVE, "right")
    monkeypatch.setenv("P", "wrong")
    run.refused(
        "cannot decrypt the archive: wrong passphrase",
        *("restore", "-f", f, "--from", str(enc), "--passphrase-env", "P", "--yes"),
    )
    mine = (tmp_path / "cluster.yaml").read_text().replace("name: prod", "name: other")
    (tmp_path / "cluster.yaml").write_text(mine)
    run.refused(
        "the archive is a backup of cluster 'prod', the Clusterfile names 'other'",
        *("restore", "-f", f, "--from", str(other), "--yes"),
    )
