"""Clusterfile examples in README.md and docs/ validate; docs/clusterfile.md names every field."""

from __future__ import annotations

import re

import pytest

from sealer.spec import validate_text
from sealer.spec.model import Cluster
from tests.spec.conftest import REPO
from tests.spec.test_example import _fields

DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
FENCE = re.compile(r"^```yaml\n(.*?)^```", re.MULTILINE | re.DOTALL)
REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def _examples() -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for doc in DOCS:
        text = doc.read_text()
        for match in FENCE.finditer(text):
            block = match.group(1)
            if block.startswith("apiVersion: sealer.dev/v1alpha1"):
                line = text.count("\n", 0, match.start()) + 2
                found.append((f"{doc.relative_to(REPO)}:{line}", block))
    return found


EXAMPLES = _examples()


def test_the_reference_has_examples() -> None:
    assert sum(1 for where, _ in EXAMPLES if where.startswith("docs/clusterfile.md")) >= 6


@pytest.mark.parametrize(("where", "block"), EXAMPLES, ids=[w for w, _ in EXAMPLES])
def test_docs_example_validates(where: str, block: str) -> None:
    env = {name: "from-the-environment" for name in REFERENCE.findall(block)}
    cluster, problems = validate_text(block, where, env=env)
    assert [str(p) for p in problems if p.severity == "error"] == []
    assert cluster is not None


def test_reference_names_every_field() -> None:
    text = (REPO / "docs" / "clusterfile.md").read_text()
    missing = sorted({name for _, name, _, _ in _fields(Cluster) if f"`{name}`" not in text})
    assert missing == []


def test_reference_states_the_decisions() -> None:
    text = (REPO / "docs" / "clusterfile.md").read_text()
    for phrase in (
        "Authentication is explicit",
        "checked at connect time",
        "`$$` for a literal `$`",
        "jump host without credentials of its own is offered the target host's key",
        "`package` accepts a string",
        "Rules between fields run once every field is valid on its own",
        "An even number of masters is a warning",
        "Kubernetes v1.23 and later",
    ):
        assert phrase.lower() in text.lower(), phrase
