"""The kubeadm configuration: per-host documents, API versions, patches, the API types."""

from __future__ import annotations

from typing import Any

import pytest
from ruamel.yaml import YAML

from sealer.errors import KubeError
from sealer.kube.kubeadm_config import (
    PLACEHOLDER_CA_CERT_HASH,
    PLACEHOLDER_TOKEN,
    JoinSecrets,
    KubeadmHostFacts,
    check_patches,
    kubeadm_api_version,
    render_kubeadm_config,
    render_token_config,
    upgrade_apply_argv,
    upgrade_node_argv,
)
from sealer.kube.kubeadm_schema import (
    KUBE_PROXY_CONFIGURATION,
    KUBEADM_V1BETA3,
    KUBEADM_V1BETA4,
    KUBELET_CONFIGURATION,
)
from sealer.kube.validate import problems_in
from tests.kube.conftest import MASTERS, NODES, MakeCluster

SECRETS = JoinSecrets(
    token="abcdef.0123456789abcdef",
    ca_cert_hashes=("sha256:" + "c" * 64,),
    certificate_key="d" * 64,
)


def docs(cluster: Any, address: str, **facts: Any) -> dict[str, dict[str, Any]]:
    rendered = render_kubeadm_config(cluster, address, KubeadmHostFacts(**facts), None)
    return {d["kind"]: d for d in rendered.documents}


@pytest.mark.parametrize(
    ("version", "api"),
    [
        ("v1.23.0", "kubeadm.k8s.io/v1beta3"),
        ("v1.29.3", "kubeadm.k8s.io/v1beta3"),
        ("v1.30.14", "kubeadm.k8s.io/v1beta3"),
        ("v1.31.0", "kubeadm.k8s.io/v1beta4"),
        ("v1.33.1", "kubeadm.k8s.io/v1beta4"),
    ],
)
def test_api_version_follows_kubernetes(version: str, api: str) -> None:
    assert kubeadm_api_version(version) == api


def test_v1beta3_init_documents(make_cluster: MakeCluster) -> None:
    cluster = make_cluster("v1.29.3")
    rendered = render_kubeadm_config(cluster, MASTERS[0], KubeadmHostFacts(hostname="Master-1"))
    assert rendered.role == "init"
    assert [d["kind"] for d in rendered.documents] == [
        "InitConfiguration",
        "ClusterConfiguration",
        "KubeletConfiguration",
        "KubeProxyConfiguration",
    ]
    init, conf, kubelet, proxy = rendered.documents
    assert init["apiVersion"] == conf["apiVersion"] == "kubeadm.k8s.io/v1beta3"
    assert init["localAPIEndpoint"] == {"advertiseAddress": MASTERS[0], "bindPort": 6443}
    assert init["nodeRegistration"] == {
        "name": "master-1",
        "criSocket": "unix:///run/containerd/containerd.sock",
        "kubeletExtraArgs": {"node-ip": MASTERS[0]},
    }
    assert conf["kubernetesVersion"] == "v1.29.3"
    assert conf["controlPlaneEndpoint"] == "apiserver.cluster.local:6443"
    assert conf["clusterName"] == "demo"
    assert conf["networking"] == {
        "podSubnet": "100.64.0.0/10",
        "serviceSubnet": "10.96.0.0/12",
        "dnsDomain": "cluster.local",
    }
    sans = conf["apiServer"]["certSANs"]
    assert {"127.0.0.1", "apiserver.cluster.local", *MASTERS, "10.103.97.2"} <= set(sans)
    assert {"k8s.example.com", "203.0.113.7"} <= set(sans)
    assert "encryptionAlgorithm" not in conf and "certificateValidityPeriod" not in conf
    assert kubelet == {
        "apiVersion": "kubelet.config.k8s.io/v1beta1",
        "kind": "KubeletConfiguration",
        "cgroupDriver": "systemd",
    }
    assert proxy == {
        "apiVersion": "kubeproxy.config.k8s.io/v1alpha1",
        "kind": "KubeProxyConfiguration",
        "mode": "ipvs",
        "ipvs": {"excludeCIDRs": ["10.103.97.2/32"]},
    }


def test_v1beta4_init_documents(make_cluster: MakeCluster) -> None:
    cluster = make_cluster("v1.31.2", certificates={"keyAlgorithm": "ecdsa-p256"})
    d = docs(cluster, MASTERS[0], cgroup_driver="cgroupfs")
    assert d["InitConfiguration"]["apiVersion"] == "kubeadm.k8s.io/v1beta4"
    assert d["InitConfiguration"]["nodeRegistration"]["kubeletExtraArgs"] == [
        {"name": "node-ip", "value": MASTERS[0]}
    ]
    assert "name" not in d["InitConfiguration"]["nodeRegistration"]  # kubeadm's default
    conf = d["ClusterConfiguration"]
    assert conf["encryptionAlgorithm"] == "ECDSA-P256"
    assert conf["certificateValidityPeriod"] == "867240h0m0s"  # 99 * 365 days
    assert conf["caCertificateValidityPeriod"] == "867240h0m0s"
    assert d["KubeletConfiguration"]["cgroupDriver"] == "cgroupfs"


def test_join_master(make_cluster: MakeCluster) -> None:
    cluster = make_cluster("v1.31.2")
    rendered = render_kubeadm_config(cluster, MASTERS[2], KubeadmHostFacts(hostname="m3"), SECRETS)
    assert rendered.role == "join-master"
    (join,) = rendered.documents
    assert join["kind"] == "JoinConfiguration"
    assert join["discovery"] == {
        "bootstrapToken": {
            "apiServerEndpoint": f"{MASTERS[0]}:6443",
            "token": SECRETS.token,
            "caCertHashes": list(SECRETS.ca_cert_hashes),
        }
    }
    assert join["controlPlane"] == {
        "localAPIEndpoint": {"advertiseAddress": MASTERS[2], "bindPort": 6443},
        "certificateKey": SECRETS.certificate_key,
    }
    assert join["nodeRegistration"]["kubeletExtraArgs"] == [
        {"name": "node-ip", "value": MASTERS[2]}
    ]


def test_join_master_without_certificate_key(make_cluster: MakeCluster) -> None:
    secrets = JoinSecrets(token=SECRETS.token, ca_cert_hashes=SECRETS.ca_cert_hashes)
    rendered = render_kubeadm_config(make_cluster(), MASTERS[1], None, secrets)
    assert "certificateKey" not in rendered.documents[0]["controlPlane"]


def test_join_node_goes_through_the_vip(make_cluster: MakeCluster) -> None:
    cluster = make_cluster(
        "v1.29.3", kubeadm={"joinConfiguration": {"controlPlane": {}, "skipPhases": ["preflight"]}}
    )
    rendered = render_kubeadm_config(cluster, NODES[0], None, SECRETS)
    assert rendered.role == "join-node"
    (join,) = rendered.documents
    assert join["discovery"]["bootstrapToken"]["apiServerEndpoint"] == "10.103.97.2:6443"
    assert "controlPlane" not in join  # a worker never becomes a control-plane node
    assert join["skipPhases"] == ["preflight"]
    assert join["nodeRegistration"]["kubeletExtraArgs"] == {"node-ip": NODES[0]}


def test_placeholders_without_secrets(make_cluster: MakeCluster) -> None:
    rendered = render_kubeadm_config(make_cluster(), MASTERS[1])
    text = rendered.to_yaml()
    for placeholder in (PLACEHOLDER_TOKEN, PLACEHOLDER_CA_CERT_HASH):
        assert placeholder in text
    assert "certificateKey" not in text  # sealer copies the shared PKI itself
    with_secrets = render_kubeadm_config(make_cluster(), MASTERS[1], None, SECRETS).to_yaml()
    assert SECRETS.token in with_secrets and PLACEHOLDER_TOKEN not in with_secrets
    assert SECRETS.token not in repr(SECRETS)
    assert str(SECRETS.certificate_key) not in repr(SECRETS)


def test_init_with_secrets_creates_sealers_token_and_only_then(make_cluster: MakeCluster) -> None:
    cluster = make_cluster("v1.31.2")
    plain = render_kubeadm_config(cluster, MASTERS[0]).documents[0]
    assert "bootstrapTokens" not in plain
    init = render_kubeadm_config(cluster, MASTERS[0], None, SECRETS).documents[0]
    assert list(init)[:3] == ["apiVersion", "kind", "bootstrapTokens"]
    assert init["bootstrapTokens"] == [
        {
            "token": SECRETS.token,
            "description": "made by sealer for the joins of one run; deleted when they are done",
            "ttl": "2h0m0s",
            "usages": ["signing", "authentication"],
            "groups": ["system:bootstrappers:kubeadm:default-node-token"],
        }
    ]


@pytest.mark.parametrize(("version", "api"), [("v1.29.3", "v1beta3"), ("v1.31.2", "v1beta4")])
def test_token_config_is_an_init_configuration_with_the_token(
    make_cluster: MakeCluster, version: str, api: str
) -> None:
    text = render_token_config(make_cluster(version), SECRETS.token)
    [doc] = list(YAML(typ="safe").load_all(text))
    assert doc["apiVersion"] == f"kubeadm.k8s.io/{api}"
    assert doc["kind"] == "InitConfiguration"
    assert doc["bootstrapTokens"][0]["token"] == SECRETS.token
    assert doc["nodeRegistration"] == {"criSocket": "unix:///run/containerd/containerd.sock"}


def test_secrets_in_patches_are_refused_without_echoing_them(make_cluster: MakeCluster) -> None:
    cluster = make_cluster(
        kubeadm={
            "initConfiguration": {
                "bootstrapTokens": [{"token": SECRETS.token}],
                "certificateKey": "ab" * 32,
            }
        }
    )
    with pytest.raises(KubeError) as caught:
        check_patches(cluster, source="cluster.yaml")
    lines = str(caught.value).splitlines()
    assert [line.split(": ")[1] for line in lines] == [
        "spec.kubeadm.initConfiguration.bootstrapTokens",
        "spec.kubeadm.initConfiguration.certificateKey",
    ]
    assert all("a secret has no place in the Clusterfile" in line for line in lines)
    assert SECRETS.token not in str(caught.value) and "ab" * 32 not in str(caught.value)


def test_nftables_backend_runs_kube_proxy_in_iptables_mode(make_cluster: MakeCluster) -> None:
    proxy = docs(make_cluster(), MASTERS[0], lb_backend="nftables")["KubeProxyConfiguration"]
    assert proxy["mode"] == "iptables"
    assert "ipvs" not in proxy


def test_patches_merge_maps_replace_lists_and_null_removes(make_cluster: MakeCluster) -> None:
    volume = {"name": "audit", "hostPath": "/var/log/k8s", "mountPath": "/var/log/k8s"}
    cluster = make_cluster(
        "v1.29.3",
        kubeadm={
            "clusterConfiguration": {
                "apiServer": {"extraArgs": {"audit-log-maxage": "30"}, "extraVolumes": [volume]},
                "etcd": {"local": {"extraArgs": {"quota-backend-bytes": "8589934592"}}},
            },
            "initConfiguration": {"nodeRegistration": {"kubeletExtraArgs": None}},
            "kubeletConfiguration": {"maxPods": 200, "evictionHard": {"memory.available": "5%"}},
            "kubeProxyConfiguration": {"ipvs": {"excludeCIDRs": ["10.0.0.0/8"], "strictARP": True}},
        },
    )
    d = docs(cluster, MASTERS[0])
    api = d["ClusterConfiguration"]["apiServer"]
    assert api["extraArgs"] == {"audit-log-maxage": "30"}
    assert api["extraVolumes"] == [volume]
    assert api["certSANs"]  # merged beside, not replaced
    assert d["ClusterConfiguration"]["etcd"]["local"] == {
        "dataDir": "/var/lib/etcd",
        "extraArgs": {"quota-backend-bytes": "8589934592"},
    }
    assert "kubeletExtraArgs" not in d["InitConfiguration"]["nodeRegistration"]
    assert d["KubeletConfiguration"]["maxPods"] == 200
    assert d["KubeProxyConfiguration"]["ipvs"] == {
        "excludeCIDRs": ["10.0.0.0/8"],
        "strictARP": True,
    }


def test_v1beta4_extra_args_merge_by_name(make_cluster: MakeCluster) -> None:
    cluster = make_cluster(
        "v1.31.2",
        kubeadm={
            "initConfiguration": {
                "nodeRegistration": {
                    "kubeletExtraArgs": [
                        {"name": "max-pods", "value": "200"},
                        {"name": "node-ip", "value": "192.168.10.99"},
                    ]
                }
            }
        },
    )
    args = docs(cluster, MASTERS[0])["InitConfiguration"]["nodeRegistration"]["kubeletExtraArgs"]
    assert args == [
        {"name": "max-pods", "value": "200"},
        {"name": "node-ip", "value": "192.168.10.99"},
    ]


def test_unknown_field_with_did_you_mean(make_cluster: MakeCluster) -> None:
    cluster = make_cluster(kubeadm={"clusterConfiguration": {"apiServer": {"extraArgz": {}}}})
    with pytest.raises(KubeError) as caught:
        render_kubeadm_config(cluster, MASTERS[0])
    assert str(caught.value) == (
        "spec.kubeadm.clusterConfiguration.apiServer.extraArgz: unknown field 'extraArgz' "
        "of ClusterConfiguration.apiServer (did you mean 'extraArgs'?)"
    )


@pytest.mark.parametrize(
    ("patches", "message"),
    [
        (
            {"kubeletConfiguration": {"cgroupDriverr": "systemd"}},
            "spec.kubeadm.kubeletConfiguration.cgroupDriverr: unknown field 'cgroupDriverr' of "
            "KubeletConfiguration (did you mean 'cgroupDriver'?)",
        ),
        (
            {"kubeProxyConfiguration": {"ipvs": {"excludecidrs": []}}},
            "(did you mean 'excludeCIDRs'?)",
        ),
        (
            {"initConfiguration": {"nodeRegistration": {"taints": [{"key": "a", "efect": "x"}]}}},
            "spec.kubeadm.initConfiguration.nodeRegistration.taints[0].efect: unknown field "
            "'efect' of InitConfiguration.nodeRegistration.taints[] (did you mean 'effect'?)",
        ),
        ({"clusterConfiguration": {"zzz": 1}}, "unknown field 'zzz' of ClusterConfiguration"),
        (
            {"joinConfiguration": {"nodeRegistration": {"imagePullPolicy": "Sometimes"}}},
            "imagePullPolicy: expected one of 'Always', 'IfNotPresent', 'Never', "
            "got a string 'Sometimes'",
        ),
        (
            {"clusterConfiguration": {"featureGates": {"EtcdLearnerMode": "true"}}},
            'featureGates["EtcdLearnerMode"]: expected a boolean (true/false), got a string',
        ),
        (
            {"kubeletConfiguration": {"maxPods": "110"}},
            "maxPods: expected an integer, got a string '110'",
        ),
        (
            {"kubeletConfiguration": {"syncFrequency": "1 minute"}},
            "syncFrequency: expected a duration string such as '4m0s'",
        ),
        (
            {"clusterConfiguration": {"apiServer": {"extraArgs": [{"name": "a", "value": "b"}]}}},
            "v1beta3 takes a mapping; v1beta4 takes a list of {name, value}",
        ),
    ],
)
def test_bad_patches_are_rejected(
    make_cluster: MakeCluster, patches: dict[str, Any], message: str
) -> None:
    with pytest.raises(KubeError) as caught:
        check_patches(make_cluster("v1.29.3", kubeadm=patches))
    assert message in str(caught.value)


def test_v1beta4_wants_extra_args_as_a_list(make_cluster: MakeCluster) -> None:
    cluster = make_cluster(
        "v1.31.2", kubeadm={"clusterConfiguration": {"apiServer": {"extraArgs": {"a": "b"}}}}
    )
    with pytest.raises(KubeError, match=r"v1beta4 takes a list of \{name, value\}"):
        check_patches(cluster)


def test_v1beta4_only_fields_are_rejected_on_v1beta3(make_cluster: MakeCluster) -> None:
    patch = {"initConfiguration": {"timeouts": {"kubeletHealthCheck": "5m0s"}}}
    with pytest.raises(KubeError, match="unknown field 'timeouts' of InitConfiguration"):
        check_patches(make_cluster("v1.30.1", kubeadm=patch))
    check_patches(make_cluster("v1.31.1", kubeadm=patch))


def test_int_fields_must_fit_int32(make_cluster: MakeCluster) -> None:
    patch = {"kubeletConfiguration": {"maxPods": 2**31}}
    with pytest.raises(KubeError, match="does not fit in a 32-bit integer"):
        check_patches(make_cluster(kubeadm=patch))
    check_patches(make_cluster(kubeadm={"kubeletConfiguration": {"podPidsLimit": 2**40}}))


def test_fields_sealer_owns_cannot_be_patched(make_cluster: MakeCluster) -> None:
    cluster = make_cluster(
        kubeadm={
            "clusterConfiguration": {
                "kubernetesVersion": "v1.30.0",
                "networking": {"podSubnet": "10.244.0.0/16"},
                "apiServer": {"certSANs": ["x"]},
            },
            "joinConfiguration": {"discovery": {"bootstrapToken": {"token": "x"}}},
        }
    )
    with pytest.raises(KubeError) as caught:
        check_patches(cluster, source="cluster.yaml")
    lines = str(caught.value).splitlines()
    assert lines == [
        "cluster.yaml: spec.kubeadm.clusterConfiguration.kubernetesVersion: set by sealer from "
        "spec.version; change that instead",
        "cluster.yaml: spec.kubeadm.clusterConfiguration.networking.podSubnet: set by sealer "
        "from spec.network.podCIDR; change that instead",
        "cluster.yaml: spec.kubeadm.clusterConfiguration.apiServer.certSANs: set by sealer from "
        "spec.network.certSANs; change that instead",
        "cluster.yaml: spec.kubeadm.joinConfiguration.discovery: set by sealer from the join "
        "credentials sealer obtains at apply time; change that instead",
    ]


def test_taints_keep_the_control_plane_taint_on_masters(make_cluster: MakeCluster) -> None:
    taint = {"key": "dedicated", "value": "infra", "effect": "NoExecute"}
    hosts = {MASTERS[0]: {"taints": [taint]}, NODES[0]: {"taints": [taint]}}
    cluster = make_cluster("v1.29.3", hosts=hosts)
    master = docs(cluster, MASTERS[0])["InitConfiguration"]["nodeRegistration"]["taints"]
    assert master == [
        {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"},
        taint,
    ]
    node = render_kubeadm_config(cluster, NODES[0]).documents[0]["nodeRegistration"]["taints"]
    assert node == [taint]
    old = docs(make_cluster("v1.24.9", hosts=hosts), MASTERS[0])
    keys = [t["key"] for t in old["InitConfiguration"]["nodeRegistration"]["taints"]]
    assert keys == [
        "node-role.kubernetes.io/master",
        "node-role.kubernetes.io/control-plane",
        "dedicated",
    ]


def test_hosts_named_by_dns_need_an_ip(make_cluster: MakeCluster) -> None:
    cluster = make_cluster(masters=["m1.example.com"], nodes=[])
    with pytest.raises(KubeError, match="needs the host's IP address"):
        render_kubeadm_config(cluster, "m1.example.com")
    d = docs(cluster, "m1.example.com", ip="192.168.10.50")
    assert d["InitConfiguration"]["localAPIEndpoint"]["advertiseAddress"] == "192.168.10.50"


def test_unknown_host(make_cluster: MakeCluster) -> None:
    with pytest.raises(KubeError, match="neither a master nor a node"):
        render_kubeadm_config(make_cluster(), "10.9.9.9")


@pytest.mark.parametrize(
    "version", ["v1.23.17", "v1.27.4", "v1.29.3", "v1.30.2", "v1.31.2", "v1.33.0"]
)
@pytest.mark.parametrize("backend", ["ipvs", "nftables"])
def test_our_own_output_is_valid_for_its_api_version(
    make_cluster: MakeCluster, version: str, backend: str
) -> None:
    """Checked independently of rendering, against the schema of the API version used."""
    cluster = make_cluster(version, hosts={NODES[0]: {"taints": [{"key": "k", "value": "v"}]}})
    schemas = KUBEADM_V1BETA4 if version >= "v1.31" else KUBEADM_V1BETA3
    for address in (MASTERS[0], MASTERS[1], NODES[0]):
        for secrets in (None, SECRETS):
            rendered = render_kubeadm_config(
                cluster,
                address,
                KubeadmHostFacts(hostname="h", lb_backend=backend),
                secrets,  # type: ignore[arg-type]
            )
            for doc in rendered.documents:
                schema = {
                    **schemas,
                    "KubeletConfiguration": KUBELET_CONFIGURATION,
                    "KubeProxyConfiguration": KUBE_PROXY_CONFIGURATION,
                }[doc["kind"]]
                assert problems_in(schema, doc, doc["kind"]) == []
                assert isinstance(doc.get("localAPIEndpoint", {}).get("bindPort", 0), int)


def test_upgrade_keeps_the_long_certificates() -> None:
    assert "--certificate-renewal=false" in upgrade_apply_argv("v1.30.2")
    assert upgrade_apply_argv("v1.30.2")[:4] == ["kubeadm", "upgrade", "apply", "v1.30.2"]
    assert "--certificate-renewal=false" in upgrade_node_argv()
