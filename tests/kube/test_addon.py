"""The add-on's manifest rendered and its images found; kubeadm's image list per version."""

from __future__ import annotations

import pytest

from sealer.kube.addon import ManifestError, kubeadm_images, manifest_images, render_manifest

MANIFEST = """
apiVersion: v1
kind: ConfigMap
metadata: {name: calico-config}
data: {image: "not/an-image:1"}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: calico-node}
spec:
  template:
    spec:
      initContainers:
      - {name: install-cni, image: docker.io/calico/cni:v3.27.3}
      containers:
      - name: calico-node
        image: docker.io/calico/node:v3.27.3
        env: [{name: CALICO_IPV4POOL_CIDR, value: "@POD_CIDR@"}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: calico-kube-controllers}
spec:
  template:
    spec:
      containers:
      - {name: c, image: docker.io/calico/kube-controllers:v3.27.3}
      - {name: again, image: docker.io/calico/node:v3.27.3}
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: tidy}
spec:
  jobTemplate:
    spec:
      template:
        spec:
          containers: [{name: t, image: "busybox:1.36"}]
"""


def test_images_of_every_pod_template_once_each_in_order() -> None:
    assert manifest_images(MANIFEST) == (
        "docker.io/calico/cni:v3.27.3",
        "docker.io/calico/node:v3.27.3",
        "docker.io/calico/kube-controllers:v3.27.3",
        "busybox:1.36",
    )


def test_the_pod_cidr_replaces_the_placeholder() -> None:
    rendered = render_manifest(MANIFEST, "10.244.0.0/16")
    assert "@POD_CIDR@" not in rendered
    assert 'value: "10.244.0.0/16"' in rendered


def test_a_manifest_that_is_not_yaml_is_an_error() -> None:
    with pytest.raises(ManifestError):
        manifest_images("kind: [unclosed\n")


def test_kubeadm_images_per_version_and_repository() -> None:
    assert kubeadm_images("v1.29.3") == (
        "registry.k8s.io/kube-apiserver:v1.29.3",
        "registry.k8s.io/kube-controller-manager:v1.29.3",
        "registry.k8s.io/kube-scheduler:v1.29.3",
        "registry.k8s.io/kube-proxy:v1.29.3",
        "registry.k8s.io/coredns/coredns:v1.11.1",
        "registry.k8s.io/pause:3.9",
        "registry.k8s.io/etcd:3.5.12-0",
    )
    mirrored = kubeadm_images("v1.31.2", "harbor.local/k8s")
    assert mirrored is not None and "harbor.local/k8s/coredns:v1.11.3" in mirrored
    assert kubeadm_images("v1.40.0") is None
