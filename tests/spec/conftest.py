"""Fixtures of the Clusterfile tests: run the real CLI entry point and capture its output."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from sealer.cli import main

HERE = Path(__file__).parent
CORPUS = HERE / "corpus"
VALID = HERE / "valid"
REPO = HERE.parent.parent
EXAMPLE = REPO / "clusterfile.example.yaml"

#: Environment variables the corpus expects unset, and those the valid files use.
UNSET_VARS = ("SEALER_TEST_UNSET_PASSWORD",)
VALID_ENV = {"SEALER_TEST_SSH_PASSWORD": "env-Pa55-word"}


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str

    @property
    def err_lines(self) -> list[str]:
        return self.err.splitlines()


CliRunner = Callable[[Sequence[str]], Run]


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """``sealer.cli.main(argv)`` in this process, with colours off and the test variables set."""
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.delenv("SEALER_DEBUG", raising=False)
    for name in UNSET_VARS:
        monkeypatch.delenv(name, raising=False)
    for name, value in VALID_ENV.items():
        monkeypatch.setenv(name, value)

    def run(argv: Sequence[str]) -> Run:
        capsys.readouterr()
        code = main(list(argv))
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    return run
