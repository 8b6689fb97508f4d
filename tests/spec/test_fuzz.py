"""Mutated valid Clusterfiles never crash `sealer validate`: exit 0 or 1, always a message.

Structural mutations (delete a key, replace a value with a random scalar/list/mapping, insert a
random key, duplicate a list item) act on the parsed data, which is then written back as YAML;
text mutations edit random characters of the file. Every run goes through the real CLI entry.
SEALER_FUZZ_EXAMPLES=3000 runs a longer search (default 200 examples per test).
"""

from __future__ import annotations

import io
import os
import re
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from tests.spec.conftest import EXAMPLE, VALID, VALID_ENV, CliRunner

SOURCES = [EXAMPLE, *sorted(VALID.glob("*.yaml"))]
TEXTS = {p.name: p.read_text() for p in SOURCES}
SECRETS = ["correct-horse", "also-secret", "s3cret-Lamp-42", VALID_ENV["SEALER_TEST_SSH_PASSWORD"]]
ERROR_LINE = re.compile(r"^error: .+:\d+:\d+: \S")
WARNING_LINE = re.compile(r"^warning: .+:\d+:\d+: \S")
SUMMARY = re.compile(r"^\d+ errors? found$")

_words = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)
_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    _words,
    st.sampled_from(["10.0.0.1", "fd00::1", "v1.29.3", "10.0.0.1-10.0.0.9", "${X}", "$$", ""]),
)
_values = st.recursive(
    _scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(_words, inner, max_size=3)
    ),
    max_leaves=6,
)


def _containers(node: Any, out: list[Any]) -> list[Any]:
    if isinstance(node, dict | list):
        out.append(node)
        children = node.values() if isinstance(node, dict) else node
        for child in children:
            _containers(child, out)
    return out


@st.composite
def _structural(draw: st.DrawFn) -> tuple[str, str]:
    name = draw(st.sampled_from(sorted(TEXTS)))
    data = YAML(typ="safe").load(TEXTS[name])
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        containers = _containers(data, [])
        target = draw(st.sampled_from(containers))
        action = draw(st.sampled_from(["delete", "replace", "insert", "duplicate"]))
        if isinstance(target, dict):
            keys = list(target)
            if action == "insert" or not keys:
                target[draw(_words)] = draw(_values)
            elif action == "delete":
                del target[draw(st.sampled_from(keys))]
            else:
                target[draw(st.sampled_from(keys))] = draw(_values)
        else:
            if action == "duplicate" and target:
                target.append(target[draw(st.integers(0, len(target) - 1))])
            elif action == "delete" and target:
                del target[draw(st.integers(0, len(target) - 1))]
            elif action == "replace" and target:
                target[draw(st.integers(0, len(target) - 1))] = draw(_values)
            else:
                target.append(draw(_values))
    buffer = io.StringIO()
    YAML(typ="safe").dump(data, buffer)
    return name, buffer.getvalue()


@st.composite
def _textual(draw: st.DrawFn) -> tuple[str, str]:
    name = draw(st.sampled_from(sorted(TEXTS)))
    text = TEXTS[name]
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        at = draw(st.integers(min_value=0, max_value=len(text)))
        edit = draw(st.sampled_from(["insert", "delete", "replace"]))
        char = draw(
            st.one_of(
                st.sampled_from(list(":-[]{}#&*!|>'\"%@`,\t\n ?$\\")),
                st.characters(codec="utf-8", exclude_categories=("Cs",)),
            )
        )
        if edit == "insert":
            text = text[:at] + char + text[at:]
        elif edit == "delete":
            text = text[:at] + text[at + 1 :]
        else:
            text = text[:at] + char + text[at + 1 :]
    return name, text


def _check(cli: CliRunner, path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")
    run = cli(["validate", "-f", str(path)])
    everything = run.out + run.err
    assert run.code in (0, 1), everything
    assert "Traceback" not in everything and "internal error" not in everything, everything
    for secret in SECRETS:
        assert secret not in everything
    lines = run.err.splitlines()
    for line in lines:  # one problem, one line: a newline inside a message would break that
        assert line.startswith(("error: ", "warning: ")) or SUMMARY.match(line), everything
    if run.code == 0:
        assert run.out.startswith(f"{path}: valid: cluster "), everything
        assert all(WARNING_LINE.match(line) for line in lines), everything
    else:
        assert any(ERROR_LINE.match(line) for line in lines), everything
        assert lines[-1].endswith("found") or lines[0].startswith("error: "), everything


FUZZ = settings(
    max_examples=int(os.environ.get("SEALER_FUZZ_EXAMPLES", "200")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@FUZZ
@given(case=_structural())
def test_structural_mutations_never_crash(
    cli: CliRunner, tmp_path: Path, case: tuple[str, str]
) -> None:
    _check(cli, tmp_path / "mutated.yaml", case[1])


@FUZZ
@given(case=_textual())
def test_text_mutations_never_crash(cli: CliRunner, tmp_path: Path, case: tuple[str, str]) -> None:
    _check(cli, tmp_path / "mutated.yaml", case[1])
