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
loader = sys.modules.get("pydantic.plugin._loader")
print("PYDANTIC_PLUGINS " + json.dumps(loader is not None and loader._plugins is not None))
"""


def probe(argv: tuple[str, ...], **environ: str) -> list[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "SEALER_PLUGINS": "sealer_lab.cli:register"}
    env.pop("PYDANTIC_DISABLE_PLUGINS", None)
    env.update(environ)
    done = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(argv)],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=True,
    )
    return done.stdout.splitlines()


def loaded_modules(*argv: str) -> set[str]:
    line = next(x for x in probe(argv) if x.startswith("MODULES "))
    return set(json.loads(line.removeprefix("MODULES ")))


def pydantic_plugins_scanned(*argv: str, **environ: str) -> bool:
    """Whether pydantic read the installed distributions for plugins in that run."""
    line = next(x for x in probe(argv, **environ) if x.startswith("PYDANTIC_PLUGINS "))
    scanned: bool = json.loads(line.removeprefix("PYDANTIC_PLUGINS "))
    return scanned


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


def test_the_products_own_commands_do_not_look_for_plugins() -> None:
    # The probe names the lab as a plugin (SEALER_PLUGINS): it is loaded only when the words
    # can name a plugin's command (--help, the plugin's own name); --version loads no
    # importlib.metadata at all, and validate does not let pydantic scan every installed
    # distribution for pydantic plugins (its loader stays empty).
    assert "importlib.metadata" not in loaded_modules("--version")
    for argv in (("--version",), ("validate", "-f", "clusterfile.example.yaml")):
        assert "sealer_lab.cli" not in loaded_modules(*argv), argv
    assert pydantic_plugins_scanned("validate", "-f", "clusterfile.example.yaml") is False
    assert "sealer_lab.cli" in loaded_modules("--help")
    assert "sealer_lab.cli" in loaded_modules("lab", "--help")


def test_the_probe_sees_a_pydantic_plugin_scan_when_one_is_allowed() -> None:
    scanned = pydantic_plugins_scanned(
        "validate", "-f", "clusterfile.example.yaml", PYDANTIC_DISABLE_PLUGINS="none-of-them"
    )
    assert scanned is True
