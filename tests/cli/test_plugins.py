"""Sub-commands from plugins (sealer/cli/plugins.py): found by entry point or SEALER_PLUGINS,
loaded once, left out with a warning when broken; the product stands without the lab."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from sealer.cli import build_parser, needs_plugins, plugins
from sealer.errors import UsageError

REPO = Path(__file__).resolve().parents[2]
LAB = "sealer_lab.cli:register"


def _sub_commands(parser: argparse.ArgumentParser) -> list[str]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return list(action.choices)
    raise AssertionError("no sub-commands")


def test_env_value_is_a_comma_separated_list_of_specs() -> None:
    assert plugins.parse_env(" a.b:f , ,c:g.h") == [
        plugins.Plugin("SEALER_PLUGINS", "a.b:f"),
        plugins.Plugin("SEALER_PLUGINS", "c:g.h"),
    ]
    assert plugins.parse_env("") == []


def test_a_spec_named_twice_is_loaded_once() -> None:
    found = plugins.discover({"SEALER_PLUGINS": f"{LAB},{LAB}"})
    assert [p.spec for p in found].count(LAB) == 1
    registrars, warnings = plugins.load(found)
    assert warnings == []
    assert _sub_commands(build_parser(registrars)).count("lab") == 1


def test_pyproject_declares_the_lab_entry_point_the_tests_use() -> None:
    """The installed case: the entry point pyproject.toml declares resolves and adds `lab`."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    declared = project["entry-points"][plugins.GROUP]
    assert declared == {"lab": LAB}
    registrars, warnings = plugins.load([plugins.Plugin(n, v) for n, v in declared.items()])
    assert warnings == []
    assert "lab" in _sub_commands(build_parser(registrars))


PLUGIN = """
import argparse


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("hello", help="say hello")
    parser.set_defaults(handler=lambda args, ui: print("hello from a plugin") or 0)
"""


def test_an_installed_distributions_entry_point_adds_its_sub_command(tmp_path: Path) -> None:
    """The installed case, end to end: a distribution on sys.path whose metadata declares a
    ``sealer.commands`` entry point (as pip writes it) gives ``sealer`` that sub-command."""
    info = tmp_path / "hello_plugin-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: hello-plugin\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[{plugins.GROUP}]\nhello = hello_plugin:register\n")
    (tmp_path / "hello_plugin.py").write_text(PLUGIN)
    env = {k: v for k, v in os.environ.items() if k != plugins.ENV}
    env["PYTHONPATH"] = f"{REPO}:{tmp_path}"
    out = subprocess.run(
        [sys.executable, "-m", "sealer", "hello"],
        capture_output=True,
        text=True,
        env=env,
        stdin=subprocess.DEVNULL,
        timeout=120,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout == "hello from a plugin\n"


def test_a_broken_plugin_is_left_out_with_a_warning() -> None:
    registrars, warnings = plugins.load(
        [
            plugins.Plugin("SEALER_PLUGINS", "no_such_module_here:register"),
            plugins.Plugin("x", "sealer.cli.plugins:no_such_function"),
            plugins.Plugin("y", "not-a-spec"),
            plugins.Plugin("lab", LAB),
        ]
    )
    assert len(registrars) == 1
    assert len(warnings) == 3
    assert "no_such_module_here:register" in warnings[0]
    assert "ModuleNotFoundError" in warnings[0]
    assert "AttributeError" in warnings[1]
    assert "not MODULE:FUNCTION" in warnings[2]


def test_a_plugin_whose_registration_fails_does_not_break_the_product() -> None:
    said: list[str] = []

    def clashing(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
        sub.add_parser("apply")  # the product's own name: argparse refuses it

    parser = build_parser([clashing], said.append)
    assert "apply" in _sub_commands(parser)
    assert len(said) == 1 and "not registered" in said[0]


def test_without_plugins_there_is_no_lab_command() -> None:
    parser = build_parser(())
    assert "lab" not in _sub_commands(parser)
    with pytest.raises(UsageError, match="invalid choice: 'lab'"):
        parser.parse_args(["lab", "status"])


def _without_the_lab(*args: str) -> subprocess.CompletedProcess[str]:
    """``sealer ARGS`` where the sealer_lab package cannot be imported (as when only the product
    is installed) and SEALER_PLUGINS is unset."""
    env = {k: v for k, v in os.environ.items() if k != plugins.ENV}
    env["PYTHONPATH"] = str(REPO)
    code = (
        "import sys; sys.modules['sealer_lab'] = None\n"
        "from sealer.cli import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        env=env,
        stdin=subprocess.DEVNULL,
        timeout=120,
        check=False,
    )


def test_the_product_without_the_lab_package_has_no_lab_command() -> None:
    shown = _without_the_lab("--help")
    assert shown.returncode == 0, shown.stderr
    assert "apply" in shown.stdout
    assert "lab" not in shown.stdout.split()
    usage = _without_the_lab("lab", "up")
    assert usage.returncode == 1
    assert "invalid choice: 'lab'" in usage.stderr
    assert "Traceback" not in usage.stderr


def test_plugins_are_needed_only_when_the_words_can_name_a_plugins_command() -> None:
    product = set(_sub_commands(build_parser(())))
    assert {"apply", "validate"} <= product
    assert not needs_plugins(["--version"], product)
    assert not needs_plugins(["validate", "-f", "lab"], product)
    assert not needs_plugins(["apply", "--help"], product)
    assert needs_plugins([], product)  # the usage lists every command
    assert needs_plugins(["--help"], product)
    assert needs_plugins(["lab", "up"], product)
    assert needs_plugins(["nosuch"], product)  # the error lists every command


def test_the_version_is_the_installed_distributions() -> None:
    import importlib.metadata

    import sealer

    assert sealer.__version__ == importlib.metadata.version("sealer")
