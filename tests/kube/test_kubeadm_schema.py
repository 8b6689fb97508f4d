"""The API types as data, checked against the field lists of the kubeadm API reference.

The sets below are copied by hand from the reference (kubeadm.k8s.io/v1beta3 and v1beta4
`types.go` json tags), independently of sealer/kube/kubeadm_schema.py, so a typo or a
missing field in the schema data fails here.
"""

from __future__ import annotations

from typing import Any

import pytest

from sealer.kube.kubeadm_config import KubeadmHostFacts, render_kubeadm_config
from sealer.kube.kubeadm_schema import (
    KUBE_PROXY_CONFIGURATION,
    KUBEADM_V1BETA3,
    KUBEADM_V1BETA4,
    KUBELET_CONFIGURATION,
    ListOf,
    MapOf,
    Struct,
)
from sealer.kube.yamlout import dump_yaml, needs_quotes
from tests.kube.conftest import MASTERS, MakeCluster

V1BETA3 = {
    "InitConfiguration": {
        "apiVersion",
        "kind",
        "bootstrapTokens",
        "nodeRegistration",
        "localAPIEndpoint",
        "certificateKey",
        "skipPhases",
        "patches",
    },
    "ClusterConfiguration": {
        "apiVersion",
        "kind",
        "etcd",
        "networking",
        "kubernetesVersion",
        "controlPlaneEndpoint",
        "apiServer",
        "controllerManager",
        "scheduler",
        "dns",
        "certificatesDir",
        "imageRepository",
        "featureGates",
        "clusterName",
    },
    "JoinConfiguration": {
        "apiVersion",
        "kind",
        "nodeRegistration",
        "caCertPath",
        "discovery",
        "controlPlane",
        "skipPhases",
        "patches",
    },
}
V1BETA4 = {
    "InitConfiguration": V1BETA3["InitConfiguration"] | {"dryRun", "timeouts"},
    "ClusterConfiguration": V1BETA3["ClusterConfiguration"]
    | {"proxy", "encryptionAlgorithm", "certificateValidityPeriod", "caCertificateValidityPeriod"},
    "JoinConfiguration": V1BETA3["JoinConfiguration"] | {"dryRun", "timeouts"},
}
NODE_REGISTRATION_V3 = {
    "name", "criSocket", "taints", "kubeletExtraArgs", "ignorePreflightErrors", "imagePullPolicy",
}  # fmt: skip


def fields(struct: Struct, *path: str) -> set[str]:
    node: Any = struct
    for part in path:
        node = node.fields[part]
        while isinstance(node, ListOf | MapOf):
            node = node.item if isinstance(node, ListOf) else node.value
    assert isinstance(node, Struct)
    return set(node.fields)


@pytest.mark.parametrize(
    ("schemas", "expected"), [(KUBEADM_V1BETA3, V1BETA3), (KUBEADM_V1BETA4, V1BETA4)]
)
def test_top_level_fields_match_the_reference(
    schemas: dict[str, Struct], expected: dict[str, set[str]]
) -> None:
    assert set(schemas) == set(expected)
    for kind, names in expected.items():
        assert set(schemas[kind].fields) == names, kind


def test_nested_fields_match_the_reference() -> None:
    v3, v4 = KUBEADM_V1BETA3, KUBEADM_V1BETA4
    assert fields(v3["InitConfiguration"], "nodeRegistration") == NODE_REGISTRATION_V3
    assert fields(v4["InitConfiguration"], "nodeRegistration") == NODE_REGISTRATION_V3 | {
        "imagePullSerial"
    }
    assert fields(v3["ClusterConfiguration"], "apiServer") == {
        "extraArgs", "extraVolumes", "certSANs", "timeoutForControlPlane",
    }  # fmt: skip
    assert fields(v4["ClusterConfiguration"], "apiServer") == {
        "extraArgs", "extraVolumes", "extraEnvs", "certSANs",
    }  # fmt: skip
    assert fields(v4["ClusterConfiguration"], "apiServer", "extraArgs") == {"name", "value"}
    assert isinstance(v3["ClusterConfiguration"].fields["controllerManager"], Struct)
    assert fields(v3["ClusterConfiguration"], "etcd", "local") == {
        "imageRepository", "imageTag", "dataDir", "extraArgs", "serverCertSANs", "peerCertSANs",
    }  # fmt: skip
    assert fields(v3["ClusterConfiguration"], "etcd", "external") == {
        "endpoints", "caFile", "certFile", "keyFile",
    }  # fmt: skip
    assert fields(v3["JoinConfiguration"], "discovery") == {
        "bootstrapToken", "file", "tlsBootstrapToken", "timeout",
    }  # fmt: skip
    assert fields(v4["JoinConfiguration"], "discovery") == {
        "bootstrapToken", "file", "tlsBootstrapToken",
    }  # fmt: skip
    assert fields(v3["JoinConfiguration"], "discovery", "bootstrapToken") == {
        "token", "apiServerEndpoint", "caCertHashes", "unsafeSkipCAVerification",
    }  # fmt: skip
    assert fields(v3["JoinConfiguration"], "controlPlane") == {"localAPIEndpoint", "certificateKey"}
    assert fields(v4["InitConfiguration"], "timeouts") == {
        "controlPlaneComponentHealthCheck", "kubeletHealthCheck", "kubernetesAPICall",
        "etcdAPICall", "tlsBootstrap", "discovery", "upgradeManifests",
    }  # fmt: skip
    assert fields(v3["InitConfiguration"], "bootstrapTokens") == {
        "token", "description", "ttl", "expires", "usages", "groups",
    }  # fmt: skip
    assert fields(v3["InitConfiguration"], "localAPIEndpoint") == {"advertiseAddress", "bindPort"}
    assert v3["InitConfiguration"].fields["localAPIEndpoint"].fields["bindPort"].kind == "integer"  # type: ignore[union-attr]


def test_kubelet_and_kube_proxy_fields_sealer_relies_on() -> None:
    for name in ("cgroupDriver", "maxPods", "evictionHard", "rotateCertificates", "clusterDNS"):
        assert name in KUBELET_CONFIGURATION.fields
    assert {"mode", "ipvs", "iptables", "nftables", "clusterCIDR"} <= set(
        KUBE_PROXY_CONFIGURATION.fields
    )
    assert "excludeCIDRs" in fields(KUBE_PROXY_CONFIGURATION, "ipvs")


@pytest.mark.parametrize(
    "text", ["yes", "no", "on", "off", "y", "N", "true", "False", "~", "null", "1.5", "0x1f",
             "0o17", "017", "1_000", "1:20", "-3", ".inf", ""],
)  # fmt: skip
def test_strings_a_yaml_reader_would_retype_are_quoted(text: str) -> None:
    assert needs_quotes(text)


@pytest.mark.parametrize("text", ["hello", "10.96.0.0/12", "v1.29.3", "sha256:abc", "8589934592Gi"])
def test_ordinary_strings_stay_plain(text: str) -> None:
    assert not needs_quotes(text)


def test_yaml_reads_back_as_written_under_yaml_1_1(make_cluster: MakeCluster) -> None:
    """go-yaml (used by kubeadm) follows YAML 1.1, as PyYAML does."""
    yaml = pytest.importorskip("yaml")
    cluster = make_cluster(
        "v1.29.3",
        kubeadm={
            "clusterConfiguration": {
                "apiServer": {"extraArgs": {"profiling": "off", "v": "2", "anonymous-auth": "yes"}}
            },
            "kubeletConfiguration": {"maxPods": 200, "failSwapOn": False},
        },
    )
    rendered = render_kubeadm_config(cluster, MASTERS[0], KubeadmHostFacts(hostname="m1"))
    loaded = list(yaml.safe_load_all(rendered.to_yaml()))
    assert loaded == [dict(d) for d in rendered.documents]
    assert loaded[1]["apiServer"]["extraArgs"] == {
        "profiling": "off",
        "v": "2",
        "anonymous-auth": "yes",
    }
    assert dump_yaml([{"a": "yes"}], explicit_start=False) == "a: 'yes'\n"
