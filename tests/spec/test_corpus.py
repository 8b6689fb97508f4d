"""Every malformed Clusterfile of ``corpus/`` is rejected with exactly the expected messages.

``corpus/NN-name.yaml`` is run as ``sealer validate -f NN-name.yaml`` from inside ``corpus/``;
``corpus/NN-name.expected`` holds its exact stderr. The first line of each YAML file is a
comment saying what is wrong with it.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.spec.conftest import CORPUS, UNSET_VARS, CliRunner

CASES = sorted(CORPUS.glob("*.yaml"))
PROBLEM = re.compile(r"^(error|warning): (?P<file>[^:]+):(?P<line>\d+):(?P<col>\d+): ")
SECRET_LINE = re.compile(r"^\s*(?:password|passphrase):\s*(.+?)\s*$", re.MULTILINE)


def _secrets(text: str) -> list[str]:
    """The literal password/passphrase texts of a file (no ${VAR} references)."""
    found: list[str] = []
    for raw in SECRET_LINE.findall(text):
        value = raw.strip("[]{}").strip().strip("'\"")
        value = value.split("\\")[0]  # before an escape the YAML parser stops at
        if len(value) >= 4 and not value.startswith("${"):
            found.append(value)
    return found


def test_corpus_is_large_enough() -> None:
    assert len(CASES) >= 40
    names = [case.stem for case in CASES]
    assert all(re.fullmatch(r"\d\d-[a-z0-9-]+", name) for name in names), names
    assert len({name[:2] for name in names}) == len(names), "two cases share a number"
    for case in CASES:
        assert case.with_suffix(".expected").is_file(), f"{case.name} has no .expected file"
        assert case.read_text().startswith("# "), f"{case.name}: first line says what is wrong"


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_rejected_with_exact_messages(
    case: Path, cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(CORPUS)
    run = cli(["validate", "-f", case.name])
    expected = case.with_suffix(".expected").read_text().splitlines()
    assert run.code == 1
    assert run.out == ""
    assert run.err_lines == expected
    assert "Traceback" not in run.err and "internal error" not in run.err
    problems = [line for line in run.err_lines if line.startswith(("error:", "warning:"))]
    errors = [line for line in problems if line.startswith("error:")]
    assert errors, "an invalid file must give at least one error"
    for line in problems:
        match = PROBLEM.match(line)
        assert match is not None, f"no file:line:column in {line!r}"
        assert match["file"] == case.name
        assert 1 <= int(match["line"]) <= len(case.read_text().splitlines()) + 1
    summary = f"{len(errors)} error{'s' if len(errors) != 1 else ''} found"
    assert run.err_lines[-1] == summary


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_json_output_lists_the_same_problems(
    case: Path, cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    monkeypatch.chdir(CORPUS)
    run = cli(["validate", "-f", case.name, "--output", "json"])
    assert run.code == 1
    assert run.err == ""
    report = json.loads(run.out)
    assert report["valid"] is False
    as_text = [
        f"{p['severity']}: {p['file']}:{p['line']}:{p['column']}: "
        + (f"{p['path']}: " if p["path"] else "")
        + p["message"]
        for p in report["problems"]
    ]
    expected = case.with_suffix(".expected").read_text().splitlines()[:-1]
    assert as_text == expected


CASES_WITH_SECRETS = [c for c in CASES if _secrets(c.read_text())]


def test_secret_cases_exist() -> None:
    # 26, 27, 39, 58, 61, 64 at least hold a literal password; keep that coverage.
    assert len(CASES_WITH_SECRETS) >= 6, [c.name for c in CASES_WITH_SECRETS]


@pytest.mark.parametrize("case", CASES_WITH_SECRETS, ids=[c.stem for c in CASES_WITH_SECRETS])
@pytest.mark.parametrize("output", ["text", "json"])
def test_secrets_never_shown(
    case: Path, output: str, cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(CORPUS)
    run = cli(["validate", "-f", case.name, "--output", output])
    assert run.code == 1
    for secret in _secrets(case.read_text()):
        assert secret not in run.out + run.err
        # nor any sizeable fragment of it
        for start in range(len(secret) - 4):
            assert secret[start : start + 5] not in run.out + run.err, secret


@pytest.mark.parametrize(
    "name", ["01-bad-ip-address", "37-tabs", "39-duplicate-keys-secret", "48-empty-file"]
)
def test_through_python_dash_m(name: str) -> None:
    """The installed entry point behaves the same in a fresh interpreter."""
    env = {k: v for k, v in os.environ.items() if k not in UNSET_VARS and k != "SEALER_DEBUG"}
    env["NO_COLOR"] = "1"
    result = subprocess.run(
        [sys.executable, "-m", "sealer", "validate", "-f", f"{name}.yaml"],
        cwd=CORPUS,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == (CORPUS / f"{name}.expected").read_text().splitlines()
