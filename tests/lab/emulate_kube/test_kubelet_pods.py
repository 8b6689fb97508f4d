"""Static pod manifests to host programs, kubelet flags, and the JWS kubeadm join checks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from sealer_lab.emulate import jws, podrun, runtime
from sealer_lab.emulate.apiserver.controllers import detached_jws
from sealer_lab.emulate.kubeapi import ApiError
from sealer_lab.emulate.kubelet import FlagError, Kubelet, parse_flags
from sealer_lab.package import zipapp_bytes


def _manifest(image: str, command: list[str]) -> dict[str, object]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "x", "namespace": "kube-system", "labels": {"component": "x"}},
        "spec": {"containers": [{"name": "x", "image": image, "command": command}]},
    }


def test_images_map_to_host_programs() -> None:
    etcd = podrun.plan_pod(
        _manifest(
            "registry.k8s.io/etcd:3.6.0-0",
            [
                "etcd",
                "--name=m0",
                "--feature-gates=InitialCorruptCheck=true",
                "--experimental-compact-hash-check-enabled=true",
            ],
        ),
        "m0",
    )
    assert etcd.pod == "x-m0" and etcd.namespace == "kube-system"
    assert etcd.argv == ("/usr/bin/etcd", "--name=m0", "--experimental-initial-corrupt-check=true")
    api = podrun.plan_pod(
        _manifest(
            "registry.k8s.io/kube-apiserver:v1.30.2", ["kube-apiserver", "--secure-port=6443"]
        ),
        "m0",
        code="/c.zip",
    )
    assert api.argv[1:] == ("-m", "sealer_lab.emulate.apiserver", "--secure-port=6443")
    assert dict(api.env) == {"PYTHONPATH": "/c.zip", "SEALER_LAB_K8S_VERSION": "v1.30.2"}
    cm = podrun.plan_pod(_manifest("k8s/kube-controller-manager:v1.30.2", ["x", "--a=b"]), "m0")
    assert cm.argv[1:] == ("-m", "sealer_lab.emulate.controlplane", "controller-manager", "--a=b")
    own = podrun.plan_pod(_manifest("example/care:1", ["/bin/sleep", "5"]), "m0")
    assert own.argv == ("/bin/sleep", "5") and not own.error
    missing = podrun.plan_pod(_manifest("example/nope:1", ["no-such-program"]), "m0")
    assert missing.argv == () and "no host program" in missing.error
    changed = podrun.plan_pod(_manifest("example/care:1", ["/bin/sleep", "6"]), "m0")
    assert changed.digest != own.digest


def test_kubelet_flags() -> None:
    flags = parse_flags(
        [
            "--config=/var/lib/kubelet/config.yaml",
            "--node-ip",
            "10.0.0.2",
            "--v=2",
            "--fail-swap-on=false",
        ]
    )
    assert flags.get("--node-ip") == "10.0.0.2" and flags.get("--fail-swap-on") == "false"
    with pytest.raises(FlagError, match="unknown flag: --bogus"):
        parse_flags(["--bogus=1"])
    with pytest.raises(FlagError, match="flag needs an argument: --config"):
        parse_flags(["--config"])


def test_join_accepts_the_apiserver_signers_jws_and_nothing_else() -> None:
    content = "apiVersion: v1\nkind: Config\n"
    signed = detached_jws(content, "abcdef", "0123456789abcdef")
    assert jws.verify(content, signed, "abcdef", "0123456789abcdef")
    assert signed == jws.detached_signature(content, "abcdef", "0123456789abcdef")
    assert not jws.verify(content, signed, "abcdef", "0123456789abcdeX")
    assert not jws.verify(content + " ", signed, "abcdef", "0123456789abcdef")
    assert not jws.verify(content, "garbage", "abcdef", "0123456789abcdef")


def test_running_code_is_copied_out_of_the_package(tmp_path: Path) -> None:
    """Pods import from a content-addressed copy, not from the file init.sh replaces."""
    app = tmp_path / "kubelet"
    app.write_bytes(zipapp_bytes("kubelet", "v1.29.3"))
    script = (
        "import sys; from pathlib import Path; from sealer_lab.emulate import runtime; "
        "print(runtime.code_root()); print(runtime.stable_code_root(Path(sys.argv[1])))"
    )
    out = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "cache")],
        env={"PYTHONPATH": str(app), "PATH": "/usr/bin:/bin"},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert out[0] == str(app)
    copy = Path(out[1])
    assert copy.parent == tmp_path / "cache" and copy.name.startswith("code-")
    assert copy.read_bytes() == app.read_bytes()
    assert runtime.stable_code_root(tmp_path / "unused") == runtime.code_root()


def test_a_node_deleted_under_a_running_kubelet_stays_deleted() -> None:
    """As the real kubelet: it registers its Node once per run (``kubectl delete node`` before
    ``kubeadm reset`` does not see the Node come back); a restarted kubelet registers again."""

    class NoNode:
        server = "https://10.0.0.1:6443"

        def __init__(self) -> None:
            self.created: list[dict[str, Any]] = []

        def get(self, path: str) -> dict[str, Any]:
            if path == "/version":  # the kubelet checks the skew policy against the server
                return {"gitVersion": "v1.29.3"}
            raise ApiError(404, f'nodes "{path.rsplit("/", 1)[-1]}" not found')

        def create(self, path: str, obj: dict[str, Any]) -> dict[str, Any]:
            self.created.append(obj)
            return obj

    kubelet = Kubelet.__new__(Kubelet)  # no state directories: only the heartbeat is used
    kubelet.flags = parse_flags(["--node-ip", "10.0.0.2"])
    kubelet.node, kubelet.version = "n1", "v1.29.3"
    kubelet.client = api = NoNode()  # type: ignore[assignment]
    kubelet.registered = True
    kubelet.heartbeat()
    assert api.created == []
    kubelet.registered = False  # a new kubelet process
    kubelet.heartbeat()
    assert [n["metadata"]["name"] for n in api.created] == ["n1"]
    assert kubelet.registered
