"""The emulated container runtime on this machine: containerd's socket, crictl, and the
kubelet's refusal to start without a runtime (socket and configuration in a temp dir)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from sealer_lab.emulate import containerd
from tests.waiting import wait_for

ENV = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[3])}


def _run(module: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", f"sealer_lab.emulate.{module}", *args],
        env=ENV,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def _crictl(sock: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return _run("crictl", "--runtime-endpoint", f"unix://{sock}", *args)


class Containerd:
    def __init__(self, tmp: Path, config: str | None) -> None:
        self.sock = tmp / "containerd.sock"
        self.config = tmp / "config.toml"
        if config is not None:
            self.config.write_text(config)
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "sealer_lab.emulate.containerd",
                "--config",
                str(self.config),
                "--address",
                str(self.sock),
            ],
            env=ENV,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def serving(self) -> bool:
        with socket.socket(socket.AF_UNIX) as s:
            try:
                s.connect(str(self.sock))
            except OSError:
                return False
        return True

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=30)


@pytest.fixture
def runtime_factory(tmp_path: Path) -> Iterator[Callable[[str], Containerd]]:
    """Start containerd with a configuration (each in its own directory); stopped after."""
    started: list[Containerd] = []

    def start(config: str) -> Containerd:
        where = tmp_path / f"c{len(started)}"
        where.mkdir()
        started.append(Containerd(where, config))
        return started[-1]

    yield start
    for c in started:
        c.stop()


def test_crictl_info_shows_the_runtime_ready_and_the_network_as_containerd_decides(
    runtime_factory: Callable[[str], Containerd],
) -> None:
    ctr = runtime_factory("version = 2\n")
    wait_for("containerd's socket", ctr.serving, timeout=60)
    info = _crictl(ctr.sock, "info")
    assert info.returncode == 0, info.stderr
    conditions = {c["type"]: c for c in json.loads(info.stdout)["status"]["conditions"]}
    assert conditions["RuntimeReady"]["status"] is True
    assert set(conditions) == {"RuntimeReady", "NetworkReady"}
    version = _crictl(ctr.sock, "version")
    assert "RuntimeName:  containerd" in version.stdout
    assert "RuntimeApiVersion:  v1" in version.stdout
    ctr.stop()
    assert ctr.proc.returncode == 0
    assert not ctr.sock.exists()  # gone with the runtime: a client meets "no such file"


def test_network_ready_follows_the_cni_configuration(tmp_path: Path) -> None:
    net = containerd.status_response(tmp_path)["status"]["conditions"][1]
    assert net == {
        "type": "NetworkReady",
        "status": False,
        "reason": "NetworkPluginNotReady",
        "message": "Network plugin returns error: cni plugin not initialized",
    }
    (tmp_path / "10-calico.conflist").write_text(
        json.dumps({"name": "k8s-pod-network", "plugins": [{"type": "calico"}]})
    )
    assert containerd.status_response(tmp_path)["status"]["conditions"][1]["status"] is True


def test_crictl_names_a_missing_socket_and_a_refused_one(tmp_path: Path) -> None:
    missing = _crictl(tmp_path / "none.sock", "info")
    assert missing.returncode == 1
    assert missing.stdout == ""
    assert "level=fatal" in missing.stderr
    assert (
        'validate service connection: validate CRI v1 runtime API for endpoint \\"unix://'
        f'{tmp_path}/none.sock\\": rpc error: code = Unavailable desc = connection error: '
        f'desc = \\"transport: Error while dialing: dial unix {tmp_path}/none.sock: connect: '
        'no such file or directory\\""'
    ) in missing.stderr
    dead = tmp_path / "dead.sock"
    with socket.socket(socket.AF_UNIX) as s:
        s.bind(str(dead))  # a socket file nobody listens on: what a killed runtime leaves
    refused = _crictl(dead, "info")
    assert refused.returncode == 1
    assert "connect: connection refused" in refused.stderr


def test_a_runtime_without_the_cri_plugin_answers_no_cri_call(
    runtime_factory: Callable[[str], Containerd],
) -> None:
    ctr = runtime_factory('version = 2\ndisabled_plugins = ["cri"]\n')
    wait_for("containerd's socket", ctr.serving, timeout=60)
    info = _crictl(ctr.sock, "info")
    assert info.returncode == 1
    assert "unknown service runtime.v1.RuntimeService" in info.stderr
    assert "validate CRI v1 runtime API for endpoint" in info.stderr


def test_a_configuration_containerd_refuses_stops_it_before_its_socket(
    runtime_factory: Callable[[str], Containerd],
) -> None:
    ctr = runtime_factory("version = 99\n")
    assert ctr.proc.wait(timeout=60) == 1
    assert "unsupported config version `99`" in (ctr.proc.stderr.read() if ctr.proc.stderr else "")
    assert not ctr.sock.exists()
    garbage = runtime_factory("version = [\n")
    assert garbage.proc.wait(timeout=60) == 1
    assert "failed to load TOML" in (garbage.proc.stderr.read() if garbage.proc.stderr else "")


def test_the_kubelet_refuses_to_start_without_a_runtime(tmp_path: Path) -> None:
    endpoint = f"unix://{tmp_path}/containerd.sock"
    kubelet = _run("kubelet", f"--container-runtime-endpoint={endpoint}")
    assert kubelet.returncode == 1
    assert (
        '"command failed" err="failed to run Kubelet: validate service connection: validate '
        f'CRI v1 runtime API for endpoint \\"{endpoint}\\": rpc error: code = Unavailable'
    ) in kubelet.stderr
    assert "connect: no such file or directory" in kubelet.stderr
