"""The command line behaves like the real kube-apiserver's."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.lab.emulate_api.conftest import Pki, apiserver_args, module_cmd, module_env


def run(args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        module_cmd(args), capture_output=True, text=True, env=module_env(), timeout=60
    )


def test_unknown_flag_fails_like_cobra(pki: Pki) -> None:
    out = run([*apiserver_args(pki, "https://127.0.0.1:1", 1), "--foo=bar"])
    assert out.returncode == 1
    assert out.stderr.splitlines()[0] == "Error: unknown flag: --foo"


def test_bool_flag_with_bad_value(pki: Pki) -> None:
    out = run([*apiserver_args(pki, "https://127.0.0.1:1", 1), "--allow-privileged=maybe"])
    assert out.returncode == 1
    assert 'invalid argument "maybe" for "--allow-privileged" flag' in out.stderr


def test_missing_file_names_the_file(pki: Pki, tmp_path: Path) -> None:
    missing = tmp_path / "nope" / "apiserver.crt"
    args = [a for a in apiserver_args(pki, "https://127.0.0.1:1", 1) if "tls-cert-file" not in a]
    out = run([*args, f"--tls-cert-file={missing}"])
    assert out.returncode == 1
    assert f"open {missing}: no such file or directory" in out.stderr


def test_missing_etcd_servers(pki: Pki) -> None:
    args = [a for a in apiserver_args(pki, "", 1) if not a.startswith("--etcd-servers")]
    out = run(args)
    assert out.returncode == 1
    assert "--etcd-servers must be specified" in out.stderr


def test_version_flag() -> None:
    out = run(["--version"])
    assert out.returncode == 0
    assert out.stdout == "Kubernetes v1.29.3\n"


def test_unreadable_serving_key_is_one_error_line(pki: Pki, tmp_path: Path) -> None:
    garbage = tmp_path / "apiserver.key"
    garbage.write_text("not a key\n")
    args = [a for a in apiserver_args(pki, "https://127.0.0.1:1", 1) if "tls-private-key" not in a]
    out = run([*args, f"--tls-private-key-file={garbage}"])
    assert out.returncode == 1
    assert out.stderr.startswith("Error: failed to load the serving certificate")
    assert "Traceback" not in out.stderr


def test_port_in_use(pki: Pki) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        out = run(apiserver_args(pki, "https://127.0.0.1:1", port))
    assert out.returncode == 1
    assert f"Error: failed to listen on 127.0.0.1:{port}" in out.stderr
