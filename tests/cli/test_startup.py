"""Start-up stays light: `sealer --version`, `--help` and `validate` load none of the heavy
libraries (SSH, the graph, cryptography; pydantic only for validate). The time itself is
measured in bench/startup.py (docs/benchmarks.md), never asserted here."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("asyncssh", "networkx", "cryptography", "sealer.connect.pool", "sealer.reconcile")

PROBE = """
import json, runpy, sys
sys.argv = ["sealer", *json.loads(sys.argv[1])]
try:
    runpy.run_module("sealer", run_name="__main__")
except SystemExit:
    pass
sys.stdout = sys.__stdout__
print("\\nMODULES " + json.dumps(sorted(sys.modules)))
"""


def loaded_modules(*argv: str) -> set[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "SEALER_PLUGINS": "sealer_lab.cli:register"}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(argv)],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=True,
    )
    line = next(x for x in done.stdout.splitlines() if x.startswith("MODULES "))
    return set(json.loads(line.removeprefix("MODULES ")))


def heavy(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY))


def test_version_and_help_load_no_ssh_graph_crypto_or_pydantic() -> None:
    for argv in (("--version",), ("--help",), ("lab", "--help")):
        modules = loaded_modules(*argv)
        assert heavy(modules) == [], argv
        assert "pydantic" not in modules, argv


def test_validate_loads_no_ssh_graph_or_crypto() -> None:
    modules = loaded_modules("validate", "-f", "clusterfile.example.yaml")
    assert "sealer.spec.model" in modules  # it did validate
    assert heavy(modules) == []


def test_the_probe_sees_heavy_modules_when_a_command_loads_them() -> None:
    # diff needs SSH: its handler loads it (and then fails on the missing file)
    modules = loaded_modules("diff", "-f", "/nonexistent/Clusterfile")
    assert {"asyncssh", "sealer.reconcile"} <= set(heavy(modules))
