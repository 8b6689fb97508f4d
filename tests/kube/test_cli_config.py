"""`sealer config kubeadm`: what it prints, in text and JSON, and its errors."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from sealer.cli import main
from sealer.kube.kubeadm_config import PLACEHOLDER_CA_CERT_HASH, PLACEHOLDER_TOKEN

CLUSTERFILE = """\
apiVersion: sealer.dev/v1alpha1
kind: Cluster
metadata:
  name: demo
spec:
  version: {version}
  masters: [192.168.10.11, 192.168.10.12]
  nodes: [192.168.10.21]
  package: /tmp/kube.tar.gz
  ssh:
    password: secret
  loadBalancer:
    backend: {backend}
  kubeadm:
    clusterConfiguration:
      apiServer:
        {patch}
"""


def write(workdir: Path, version: str = "v1.31.2", backend: str = "auto", patch: str = "") -> str:
    if not patch:
        patch = "extraArgs: [{name: audit-log-maxage, value: '30'}]"
    path = workdir / "cluster.yaml"
    path.write_text(CLUSTERFILE.format(version=version, backend=backend, patch=patch))
    return str(path)


def test_master0_prints_init_documents(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "kubeadm", "-f", write(workdir), "--hostname", "M1"]) == 0
    out, err = capsys.readouterr()
    docs = list(YAML(typ="safe").load_all(out))
    assert [d["kind"] for d in docs] == [
        "InitConfiguration",
        "ClusterConfiguration",
        "KubeletConfiguration",
        "KubeProxyConfiguration",
    ]
    assert docs[0]["nodeRegistration"]["name"] == "m1"
    assert docs[1]["apiServer"]["extraArgs"] == [{"name": "audit-log-maxage", "value": "30"}]
    assert docs[3]["mode"] == "ipvs"
    assert "init" in err and "load-balancer backend ipvs" in err


def test_join_master_has_placeholders_not_secrets(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(workdir, backend="nftables")
    assert main(["config", "kubeadm", "-f", path, "--host", "192.168.10.12"]) == 0
    out, _ = capsys.readouterr()
    assert PLACEHOLDER_TOKEN in out and PLACEHOLDER_CA_CERT_HASH in out
    assert "secret" not in out  # the SSH password never shows either


def test_json_output(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(workdir, version="v1.29.3", patch="extraArgs: {audit-log-maxage: '30'}")
    args = ["config", "kubeadm", "-f", path, "--host", "192.168.10.21", "-O", "json"]
    assert main(args) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["role"] == "join-node"
    assert data["apiVersion"] == "kubeadm.k8s.io/v1beta3"
    assert data["path"] == "/etc/kubernetes/sealer/kubeadm.yaml"
    bootstrap = data["documents"][0]["discovery"]["bootstrapToken"]
    assert bootstrap["apiServerEndpoint"] == "10.103.97.2:6443"


def test_bad_patch_is_reported_with_the_file(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(workdir, patch="extraArgz: {a: b}")
    assert main(["config", "kubeadm", "-f", path]) == 1
    _, err = capsys.readouterr()
    where = re.escape(path) + r":\d+:\d+: spec\.kubeadm\.clusterConfiguration\.apiServer\.extraArgz"
    assert re.search(where, err), err
    assert "did you mean 'extraArgs'?" in err


def test_unknown_host(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "kubeadm", "-f", write(workdir), "--host", "10.0.0.1"]) == 1
    assert "not a host of" in capsys.readouterr().err
