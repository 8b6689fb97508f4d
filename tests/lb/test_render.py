"""What the reconciler installs: the script, the config, the unit, the clean list."""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import sealer.lb
from sealer.layout import (
    CARE_CA_PATH,
    CARE_CONFIG_PATH,
    CARE_PROGRAM_PATH,
    CARE_UNIT_NAME,
    CARE_UNIT_PATH,
)
from sealer.lb import (
    LbError,
    care,
    care_script_source,
    clean_plan,
    enable_argv,
    install_files,
    render_config,
    render_unit,
)
from sealer.lb.care import Config, config_from_mapping
from tests.lb.netlab import PY38, Pki


def test_script_is_the_package_file_and_stdlib_only() -> None:
    source = care_script_source()
    assert source == (Path(sealer.lb.__file__).parent / "care.py").read_bytes()
    assert source.startswith(b"#!/usr/bin/python3\n")
    tree = ast.parse(source, feature_version=(3, 8))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0
            imported.add((node.module or "").split(".")[0])
    assert imported - {"__future__"} <= sys.stdlib_module_names, imported


@pytest.mark.skipif(not PY38.exists(), reason="no Python 3.8 on this machine")
def test_script_runs_on_python_38(tmp_path: Path) -> None:
    program = tmp_path / "sealer-care"
    program.write_bytes(care_script_source())
    config = tmp_path / "care.json"
    config.write_text(render_config("10.103.97.2", ["10.0.0.11"], interval=1, timeout=0.5))
    done = subprocess.run(
        [str(PY38), str(program), "--version"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0 and done.stdout.strip() == "sealer-care 1", done
    # an unknown backend name is refused by the 3.8 interpreter's argparse like by ours
    done = subprocess.run(
        [str(PY38), str(program), "--config", str(config), "--backend", "x", "--run-once"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2 and "invalid choice" in done.stderr


def test_config_round_trip_and_defaults() -> None:
    text = render_config("10.103.97.2", ["10.0.0.11", "10.0.0.12"])
    data = json.loads(text)
    assert data["ca_file"] == CARE_CA_PATH == "/etc/sealer/ca.crt"
    assert config_from_mapping(data) == Config(
        vip="10.103.97.2", masters=("10.0.0.11", "10.0.0.12")
    )
    assert Config(vip="x", masters=()).interval == 5.0


@pytest.mark.parametrize(
    ("vip", "masters", "settings", "message"),
    [
        ("10.103.97", ["10.0.0.11"], {}, "vip: '10.103.97' is not an IPv4 address"),
        ("10.103.97.2", [], {}, "'masters' must be a non-empty list"),
        ("10.103.97.2", ["10.103.97.2"], {}, "masters\\[0\\] is the VIP itself"),
        ("10.103.97.2", ["fd00::1"], {}, "not an IPv4 address"),
        ("10.103.97.2", ["10.0.0.11"], {"timeout": 5.0}, "timeout .* shorter than interval"),
        ("10.103.97.2", ["10.0.0.11"], {"fall": 0}, "fall: must be in 1..100"),
        ("10.103.97.2", ["10.0.0.11"], {"backend": "iptables"}, "backend must be one of"),
        ("10.103.97.2", ["10.0.0.11"], {"ca_file": "ca.crt"}, "ca_file: expected an absolute"),
        ("10.103.97.2", ["10.0.0.11"], {"cert_file": "/a.crt"}, "go together"),
    ],
)
def test_config_is_validated(
    vip: str, masters: list[str], settings: dict[str, object], message: str
) -> None:
    with pytest.raises(LbError, match=message):
        render_config(vip, masters, **settings)  # type: ignore[arg-type]


def test_unknown_keys_are_refused() -> None:
    with pytest.raises(Exception, match="unknown key\\(s\\): master"):
        config_from_mapping({"vip": "10.103.97.2", "master": ["10.0.0.1"]})


def test_unit() -> None:
    unit = render_unit()
    lines = unit.splitlines()
    for line in (
        "Before=kubelet.service",
        "WantedBy=multi-user.target",
        "Restart=always",
        "Type=notify",
        "StartLimitIntervalSec=0",
        f"ExecStart=/usr/bin/python3 {CARE_PROGRAM_PATH} --config {CARE_CONFIG_PATH}",
        "ExecReload=/bin/kill -HUP $MAINPID",
    ):
        assert line in lines, line
    with pytest.raises(LbError):
        render_unit(python="python3")
    with pytest.raises(LbError):
        render_unit(config="/etc/sealer/my care.json")


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze")
def test_unit_passes_systemd_analyze_verify(tmp_path: Path) -> None:
    program = tmp_path / "sealer-care"
    program.write_bytes(care_script_source())
    program.chmod(0o755)
    unit = tmp_path / CARE_UNIT_NAME
    unit.write_text(render_unit(python=sys.executable, program=str(program)))
    done = subprocess.run(
        ["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr


def test_install_files_and_enable() -> None:
    files = install_files(render_config("10.103.97.2", ["10.0.0.11"]), b"PEM")
    assert [(f.path, f.mode) for f in files] == [
        (CARE_PROGRAM_PATH, 0o755),
        (CARE_CA_PATH, 0o644),
        (CARE_CONFIG_PATH, 0o644),
        (CARE_UNIT_PATH, 0o644),
    ]
    assert files[0].content == care_script_source()
    assert enable_argv() == [
        ["systemctl", "daemon-reload"],
        ["systemctl", "enable", "--now", "sealer-care.service"],
    ]


def test_clean_plan_stops_before_cleaning_and_removes_every_file() -> None:
    plan = clean_plan()
    assert [c.argv for c in plan.before] == [
        ("systemctl", "disable", "--now", CARE_UNIT_NAME),
        ("/usr/bin/python3", CARE_PROGRAM_PATH, "--clean", "--config", CARE_CONFIG_PATH),
    ]
    assert set(plan.paths) == {CARE_UNIT_PATH, CARE_PROGRAM_PATH, CARE_CONFIG_PATH, CARE_CA_PATH}
    assert plan.after[0].argv == ("systemctl", "daemon-reload")


def test_clean_plan_without_the_program_uses_plain_argv() -> None:
    plan = clean_plan(program_present=False, vip="10.103.97.2")
    assert [(c.argv, c.may_fail) for c in plan.before] == [
        (("systemctl", "disable", "--now", CARE_UNIT_NAME), True),
        (("nft", "delete", "table", "ip", "sealer_care"), True),
        (("ipvsadm", "-D", "-t", "10.103.97.2:6443"), True),
        (("ip", "link", "del", "sealer-vip"), True),
    ]


PROBE_38 = """
import socket, sys
sys.path.insert(0, sys.argv[1])
import care
context = care.tls_context(care.Config(vip="10.1.1.1", masters=("127.0.0.1",), ca_file=sys.argv[2]))
silent = socket.socket()
silent.bind(("127.0.0.1", 0))
silent.listen(1)
print(care.probe("127.0.0.1", silent.getsockname()[1], "/readyz", context, 0.3).detail)
"""


@pytest.mark.skipif(not PY38.exists(), reason="no Python 3.8 on this machine")
def test_probe_timeout_on_python_38(tmp_path: Path, pki: Pki) -> None:
    # socket.timeout is not TimeoutError before 3.10: the deadline must still be reported
    (tmp_path / "care.py").write_bytes(care_script_source())
    done = subprocess.run(
        [str(PY38), "-c", PROBE_38, str(tmp_path), str(pki.ca)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.stdout.strip() == "timed out after 0.3s", done


def test_the_daemons_own_defaults_are_the_paths_sealer_installs_it_with() -> None:
    """care.py is one stdlib-only file and cannot import sealer.layout: its defaults must
    stay the paths sealer writes (and a host's `sealer-care` run by hand finds them)."""
    assert care.DEFAULT_CONFIG_PATH == CARE_CONFIG_PATH
    assert care.DEFAULT_CA_FILE == CARE_CA_PATH
