"""Kubernetes 1.31 with a kubeadm.k8s.io/v1beta4 configuration, on a lab of its own."""

from __future__ import annotations

import json

import pytest

from sealer_lab.package import build_package, install_sbin
from tests.conftest import LabFactory
from tests.lab.emulate_kube.conftest import Kube, ready, wait_for

pytestmark = [pytest.mark.lab, pytest.mark.slow]


def test_v1beta4_init_on_131(
    lab_factory: LabFactory, tmp_path_factory: pytest.TempPathFactory
) -> None:
    lab = lab_factory("v4", masters=1)
    install_sbin(lab.sbin_dir)
    kube = Kube(lab, build_package("v1.31.4", tmp_path_factory.mktemp("kube131")))
    m = lab.masters[0]
    kube.install(m.name, m.address)
    config = f"""apiVersion: kubeadm.k8s.io/v1beta4
kind: InitConfiguration
localAPIEndpoint:
  advertiseAddress: {m.address}
nodeRegistration:
  kubeletExtraArgs:
  - name: node-ip
    value: {m.address}
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
kubernetesVersion: v1.31.4
controlPlaneEndpoint: apiserver.cluster.local:6443
apiServer:
  extraArgs:
  - name: v
    value: "2"
  notAField: true
"""
    kube.ssh(m.name, ["tee", "/root/kubeadm.yaml"], input=config)
    try:
        out = kube.ssh(m.name, ["kubeadm", "init", "--config", "/root/kubeadm.yaml"])
        assert 'strict decoding error: unknown field "apiServer.notAField"' in out.stderr
        assert 'Version:"v1beta4", Kind:"ClusterConfiguration"' in out.stderr
        manifest = kube.ssh(m.name, ["cat", "/etc/kubernetes/manifests/kube-apiserver.yaml"])
        assert "- --v=2" in manifest.stdout
        assert "image: registry.k8s.io/kube-apiserver:v1.31.4" in manifest.stdout
        etcd = kube.ssh(m.name, ["cat", "/etc/kubernetes/manifests/etcd.yaml"]).stdout
        assert "image: registry.k8s.io/etcd:3.5.15-0" in etcd
        flags = kube.ssh(m.name, ["cat", "/var/lib/kubelet/kubeadm-flags.env"]).stdout
        assert f"--node-ip={m.address}" in flags
        version = json.loads(kube.kubectl(m.name, "version", "-o", "json").stdout)
        assert version["serverVersion"]["gitVersion"] == "v1.31.4"
        assert version["clientVersion"]["gitVersion"].startswith("v1.31.")
        kube.install_network(m.name)
        assert wait_for(lambda: ready(kube.nodes(m.name)[m.name]))
        node = kube.nodes(m.name)[m.name]
        assert node["status"]["nodeInfo"]["kubeletVersion"] == "v1.31.4"
        old = config.replace("v1beta4", "v1beta2")
        kube.ssh(m.name, ["tee", "/root/old.yaml"], input=old)
        refused = kube.ssh(m.name, ["kubeadm", "init", "--config", "/root/old.yaml"], check=False)
        assert 'your configuration file uses an old API spec: "kubeadm.k8s.io/v1beta2"' in (
            refused.stderr
        )
    finally:
        kube.clean(m.name)
