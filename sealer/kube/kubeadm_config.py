"""The kubeadm configuration for one host, rendered from the Clusterfile.

master0 gets ``InitConfiguration``, ``ClusterConfiguration``, ``KubeletConfiguration`` and
``KubeProxyConfiguration``; every other master and every node gets one ``JoinConfiguration``
(kubeadm join reads the rest from the cluster). The API version follows the Kubernetes
version: ``kubeadm.k8s.io/v1beta3`` up to 1.30, ``v1beta4`` from 1.31.

The user's ``spec.kubeadm`` patches are checked against the API types
(:mod:`sealer.kube.kubeadm_schema`) and merged in (:mod:`sealer.kube.merge`); so is the
result. Fields sealer derives from the Clusterfile cannot be patched: the error names the
Clusterfile field to change instead.

Join secrets (bootstrap token, CA hash, certificate key) are inputs. Without them the
rendering carries placeholders: that is what ``sealer config kubeadm`` prints and what sealer
keeps on each host at :data:`~sealer.layout.KUBEADM_CONFIG_PATH`. With them, master0's
InitConfiguration carries sealer's bootstrap token (:func:`bootstrap_token`), so the token
``kubeadm init`` creates is one sealer made, knows and deletes; :func:`render_token_config` is
the InitConfiguration ``kubeadm token create --config`` reads on a running cluster. Secrets
never reach a command line: both files travel over SFTP with mode 0600.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from sealer.errors import KubeError
from sealer.kube.endpoint import endpoint
from sealer.kube.kubeadm_schema import (
    KUBE_PROXY_CONFIGURATION,
    KUBEADM_V1BETA3,
    KUBEADM_V1BETA4,
    KUBELET_CONFIGURATION,
    Struct,
)
from sealer.kube.merge import deep_merge
from sealer.kube.validate import problems_in
from sealer.kube.yamlout import dump_yaml
from sealer.layout import API_SERVER_PORT, CRI_SOCKET, PKI_DIR
from sealer.spec.model import Cluster, Taint, parse_version

__all__ = [
    "BOOTSTRAP_TOKEN_TTL",
    "KUBEADM_V1BETA3_API",
    "KUBEADM_V1BETA4_API",
    "KUBELET_API",
    "KUBE_PROXY_API",
    "PLACEHOLDER_CA_CERT_HASH",
    "PLACEHOLDER_TOKEN",
    "CgroupDriver",
    "JoinSecrets",
    "KubeadmHostFacts",
    "LbBackend",
    "RenderedConfig",
    "bootstrap_token",
    "check_patches",
    "cri_socket_of",
    "dump_documents",
    "kube_proxy_mode",
    "kubeadm_api_version",
    "patch_problems",
    "render_cluster_configuration",
    "render_kubeadm_config",
    "render_token_config",
    "upgrade_apply_argv",
    "upgrade_node_argv",
]

KUBEADM_V1BETA3_API = "kubeadm.k8s.io/v1beta3"
KUBEADM_V1BETA4_API = "kubeadm.k8s.io/v1beta4"
KUBELET_API = "kubelet.config.k8s.io/v1beta1"
KUBE_PROXY_API = "kubeproxy.config.k8s.io/v1alpha1"

PLACEHOLDER_TOKEN = "<bootstrap token, created at apply time>"
PLACEHOLDER_CA_CERT_HASH = "<sha256 of the cluster CA public key, read at apply time>"

#: The lifetime of the bootstrap token sealer creates (kubeadm's default is 24 h): sealer
#: deletes it when the run's joins are done; this bounds it when a run cannot.
BOOTSTRAP_TOKEN_TTL = "2h0m0s"
_BOOTSTRAP_GROUP = "system:bootstrappers:kubeadm:default-node-token"

CgroupDriver = Literal["systemd", "cgroupfs"]
LbBackend = Literal["ipvs", "nftables"]
Role = Literal["init", "join-master", "join-node"]


@dataclass(frozen=True)
class KubeadmHostFacts:
    """What the kubeadm configuration of a host takes from its facts (gathered over SSH).

    ``hostname`` becomes ``nodeRegistration.name`` (kubeadm's default when omitted is the
    hostname too); ``ip`` is the address to advertise when the Clusterfile names the host by
    DNS name; ``lb_backend`` is ``spec.loadBalancer.backend`` with ``auto`` resolved.
    """

    hostname: str | None = None
    ip: str | None = None
    cgroup_driver: CgroupDriver = "systemd"
    lb_backend: LbBackend = "ipvs"


@dataclass(frozen=True)
class JoinSecrets:
    """Join credentials obtained at apply time; never printed."""

    token: str = field(repr=False)
    ca_cert_hashes: tuple[str, ...]
    certificate_key: str | None = field(default=None, repr=False)


def kubeadm_api_version(version: str) -> str:
    """``kubeadm.k8s.io/v1beta3`` for Kubernetes 1.23-1.30, ``v1beta4`` from 1.31."""
    return KUBEADM_V1BETA4_API if parse_version(version)[:2] >= (1, 31) else KUBEADM_V1BETA3_API


def _schemas(api_version: str) -> Mapping[str, Struct]:
    return KUBEADM_V1BETA4 if api_version == KUBEADM_V1BETA4_API else KUBEADM_V1BETA3


def kube_proxy_mode(backend: LbBackend) -> str:
    """kube-proxy's mode for the node-local load balancer's backend.

    IPVS backend: ``ipvs`` (kube-proxy must then leave the VIP's virtual server alone, see
    ``excludeCIDRs``). nftables backend: ``iptables`` - the host was found without usable
    IPVS (or the user chose nftables), kube-proxy's ``ipvs`` mode would fail there, its
    ``nftables`` mode is only beta from 1.31, and ``iptables`` mode (rules in its own KUBE-*
    chains) never touches the load balancer's nftables table.
    """
    return "ipvs" if backend == "ipvs" else "iptables"


# --- fields sealer owns ------------------------------------------------------------------

_OWNED: dict[str, dict[tuple[str, ...], str]] = {
    "clusterConfiguration": {
        ("apiVersion",): "spec.version",
        ("kind",): "the document it patches",
        ("kubernetesVersion",): "spec.version",
        ("clusterName",): "metadata.name",
        ("controlPlaneEndpoint",): "spec.network.apiServerDomain",
        ("networking", "podSubnet"): "spec.network.podCIDR",
        ("networking", "serviceSubnet"): "spec.network.serviceCIDR",
        ("networking", "dnsDomain"): "spec.network.dnsDomain",
        ("apiServer", "certSANs"): "spec.network.certSANs",
        ("certificatesDir",): "sealer's PKI location (/etc/kubernetes/pki)",
        ("encryptionAlgorithm",): "spec.certificates.keyAlgorithm",
        ("certificateValidityPeriod",): "spec.certificates.validityYears",
        ("caCertificateValidityPeriod",): "spec.certificates.validityYears",
    },
    "initConfiguration": {
        ("apiVersion",): "spec.version",
        ("kind",): "the document it patches",
        ("localAPIEndpoint", "advertiseAddress"): "spec.masters",
        ("localAPIEndpoint", "bindPort"): "the API server port (6443)",
    },
    "joinConfiguration": {
        ("apiVersion",): "spec.version",
        ("kind",): "the document it patches",
        ("discovery",): "the join credentials sealer obtains at apply time",
        ("controlPlane", "localAPIEndpoint"): "spec.masters",
        ("controlPlane", "certificateKey"): "the certificate key sealer obtains at apply time",
    },
    "kubeletConfiguration": {
        ("apiVersion",): "the kubelet configuration API (kubelet.config.k8s.io/v1beta1)",
        ("kind",): "the document it patches",
    },
    "kubeProxyConfiguration": {
        ("apiVersion",): "the kube-proxy configuration API (kubeproxy.config.k8s.io/v1alpha1)",
        ("kind",): "the document it patches",
    },
}


#: Secrets a patch could carry: refused (a secret in the Clusterfile ends up in git and in
#: every copy of the file), each with why sealer needs none.
_SECRETS: dict[str, dict[tuple[str, ...], str]] = {
    "initConfiguration": {
        ("bootstrapTokens",): (
            "sealer makes a bootstrap token for each run's joins and deletes it when they are done"
        ),
        ("certificateKey",): (
            "sealer copies the control-plane certificates to each master itself, so no "
            "certificate key and no kubeadm-certs Secret are used"
        ),
    },
}


def _at(patch: Mapping[str, Any], path: tuple[str, ...]) -> bool:
    node: Any = patch
    for part in path:
        node = node.get(part) if isinstance(node, Mapping) else None
        if node is None:
            return False
    return True


def _owned_problems(name: str, patch: Mapping[str, Any]) -> list[str]:
    problems = [
        f"{'.'.join(('spec.kubeadm', name, *path))}: a secret has no place in the Clusterfile "
        f"(it would be kept in every copy of the file): {why}"
        for path, why in _SECRETS.get(name, {}).items()
        if _at(patch, path)
    ]
    for path, source in _OWNED[name].items():
        if _at(patch, path):
            where = ".".join(("spec.kubeadm", name, *path))
            problems.append(f"{where}: set by sealer from {source}; change that instead")
    return problems


def _patch_schemas(cluster: Cluster) -> dict[str, tuple[Struct, dict[str, Any]]]:
    api = kubeadm_api_version(cluster.spec.version)
    kubeadm = _schemas(api)
    patches = cluster.spec.kubeadm
    return {
        "initConfiguration": (kubeadm["InitConfiguration"], patches.init_configuration),
        "clusterConfiguration": (kubeadm["ClusterConfiguration"], patches.cluster_configuration),
        "joinConfiguration": (kubeadm["JoinConfiguration"], patches.join_configuration),
        "kubeletConfiguration": (KUBELET_CONFIGURATION, patches.kubelet_configuration),
        "kubeProxyConfiguration": (KUBE_PROXY_CONFIGURATION, patches.kube_proxy_configuration),
    }


def patch_problems(cluster: Cluster) -> list[str]:
    """Every problem of the ``spec.kubeadm`` patches, each ``PATH: message``."""
    problems: list[str] = []
    for name, (schema, patch) in _patch_schemas(cluster).items():
        problems += _owned_problems(name, patch)
        problems += problems_in(schema, patch, f"spec.kubeadm.{name}")
    return problems


def check_patches(cluster: Cluster, source: str | None = None) -> None:
    """Reject ``spec.kubeadm`` patches naming unknown fields, wrong types or sealer's fields.

    Checked against the API version the cluster's Kubernetes version uses; every problem
    is reported, one per line, prefixed with ``source`` (the Clusterfile's name) if given.
    """
    problems = patch_problems(cluster)
    if problems:
        prefix = f"{source}: " if source else ""
        raise KubeError("\n".join(prefix + p for p in problems))


# --- rendering ---------------------------------------------------------------------------


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _args(v1beta4: bool, args: Mapping[str, str]) -> Any:
    if v1beta4:
        return [{"name": k, "value": v} for k, v in args.items()]
    return dict(args)


def _keyed(v1beta4: bool) -> Any:
    def keyed(path: tuple[str, ...]) -> str | None:
        if v1beta4 and path and path[-1] in ("extraArgs", "kubeletExtraArgs"):
            return "name"
        return None

    return keyed


def _control_plane_taints(version: str) -> list[dict[str, str]]:
    minor = parse_version(version)[:2]
    keys = []
    if minor <= (1, 24):
        keys.append("node-role.kubernetes.io/master")
    if minor >= (1, 24):
        keys.append("node-role.kubernetes.io/control-plane")
    return [{"key": k, "effect": "NoSchedule"} for k in keys]


def _taint(taint: Taint) -> dict[str, str]:
    out = {"key": taint.key, "effect": taint.effect}
    if taint.value:
        out["value"] = taint.value
    return out


def _node_registration(
    cluster: Cluster,
    address: str,
    node_ip: str,
    facts: KubeadmHostFacts,
    cri_socket: str,
    master: bool,
) -> dict[str, Any]:
    v1beta4 = kubeadm_api_version(cluster.spec.version) == KUBEADM_V1BETA4_API
    registration: dict[str, Any] = {}
    if facts.hostname:
        registration["name"] = facts.hostname.strip().lower()
    registration["criSocket"] = cri_socket
    registration["kubeletExtraArgs"] = _args(v1beta4, {"node-ip": node_ip})
    taints = [_taint(t) for t in cluster.spec.override_for(address).taints]
    if taints:
        # Setting taints replaces kubeadm's default control-plane taint: keep it on masters.
        registration["taints"] = _control_plane_taints(cluster.spec.version) if master else []
        registration["taints"] += taints
    return registration


def _node_ip(address: str, facts: KubeadmHostFacts) -> str:
    if facts.ip:
        return facts.ip
    if _is_ip(address):
        return address
    raise KubeError(
        f"{address}: the kubeadm configuration needs the host's IP address to advertise; "
        "the Clusterfile names it by DNS name and no IP was gathered"
    )


def _duration_years(years: int) -> str:
    return f"{years * 365 * 24}h0m0s"


def render_cluster_configuration(
    cluster: Cluster, *, image_repository: str | None = None
) -> dict[str, Any]:
    """The ClusterConfiguration (same on every master), with the user's patch merged."""
    spec = cluster.spec
    api = kubeadm_api_version(spec.version)
    v1beta4 = api == KUBEADM_V1BETA4_API
    extra_sans = ["127.0.0.1", "localhost", spec.network.api_server_domain]
    extra_sans += [*spec.master_addresses, spec.vip, *spec.network.cert_sans]
    doc: dict[str, Any] = {
        "apiVersion": api,
        "kind": "ClusterConfiguration",
        "clusterName": cluster.metadata.name,
        "kubernetesVersion": spec.version,
        "controlPlaneEndpoint": endpoint(spec.network.api_server_domain),
        "certificatesDir": PKI_DIR,
    }
    if image_repository:
        doc["imageRepository"] = image_repository
    doc["networking"] = {
        "podSubnet": spec.network.pod_cidr,
        "serviceSubnet": spec.network.service_cidr,
        "dnsDomain": spec.network.dns_domain,
    }
    doc["apiServer"] = {"certSANs": list(dict.fromkeys(extra_sans))}
    doc["etcd"] = {"local": {"dataDir": "/var/lib/etcd"}}
    if v1beta4:
        doc["encryptionAlgorithm"] = spec.certificates.key_algorithm.upper()
        validity = _duration_years(spec.certificates.validity_years)
        doc["certificateValidityPeriod"] = validity
        doc["caCertificateValidityPeriod"] = validity
    return deep_merge(doc, spec.kubeadm.cluster_configuration, _keyed(v1beta4))


def bootstrap_token(token: str) -> dict[str, Any]:
    """A ``bootstrapTokens`` entry: kubeadm's default usages and group, sealer's lifetime."""
    return {
        "token": token,
        "description": "made by sealer for the joins of one run; deleted when they are done",
        "ttl": BOOTSTRAP_TOKEN_TTL,
        "usages": ["signing", "authentication"],
        "groups": [_BOOTSTRAP_GROUP],
    }


def render_token_config(cluster: Cluster, token: str, *, cri_socket: str = CRI_SOCKET) -> str:
    """The InitConfiguration ``kubeadm token create --config`` reads: ``token`` and nothing
    else that matters (the CRI socket spares kubeadm a detection)."""
    doc = {
        "apiVersion": kubeadm_api_version(cluster.spec.version),
        "kind": "InitConfiguration",
        "bootstrapTokens": [bootstrap_token(token)],
        "nodeRegistration": {"criSocket": cri_socket},
    }
    _check_rendered("token", str(doc["apiVersion"]), [doc])
    return dump_documents([doc])


def _init_documents(
    cluster: Cluster,
    address: str,
    node_ip: str,
    facts: KubeadmHostFacts,
    cri_socket: str,
    image_repository: str | None,
    secrets: JoinSecrets | None,
) -> list[dict[str, Any]]:
    spec = cluster.spec
    api = kubeadm_api_version(spec.version)
    v1beta4 = api == KUBEADM_V1BETA4_API
    init: dict[str, Any] = {
        "apiVersion": api,
        "kind": "InitConfiguration",
    }
    if secrets is not None:
        init["bootstrapTokens"] = [bootstrap_token(secrets.token)]
    init |= {
        "localAPIEndpoint": {"advertiseAddress": node_ip, "bindPort": API_SERVER_PORT},
        "nodeRegistration": _node_registration(
            cluster, address, node_ip, facts, cri_socket, master=True
        ),
    }
    kubelet = {"apiVersion": KUBELET_API, "kind": "KubeletConfiguration"}
    kubelet["cgroupDriver"] = facts.cgroup_driver
    proxy: dict[str, Any] = {"apiVersion": KUBE_PROXY_API, "kind": "KubeProxyConfiguration"}
    proxy["mode"] = kube_proxy_mode(facts.lb_backend)
    if facts.lb_backend == "ipvs":
        prefix = 32 if ipaddress.ip_address(spec.vip).version == 4 else 128
        proxy["ipvs"] = {"excludeCIDRs": [f"{spec.vip}/{prefix}"]}
    return [
        deep_merge(init, spec.kubeadm.init_configuration, _keyed(v1beta4)),
        render_cluster_configuration(cluster, image_repository=image_repository),
        deep_merge(kubelet, spec.kubeadm.kubelet_configuration),
        deep_merge(proxy, spec.kubeadm.kube_proxy_configuration),
    ]


def _join_document(
    cluster: Cluster,
    address: str,
    node_ip: str,
    facts: KubeadmHostFacts,
    secrets: JoinSecrets | None,
    cri_socket: str,
    master: bool,
) -> dict[str, Any]:
    spec = cluster.spec
    api = kubeadm_api_version(spec.version)
    v1beta4 = api == KUBEADM_V1BETA4_API
    # Masters discover through master0 directly; nodes through the VIP of their local LB
    # (the API server certificate carries both).
    server = endpoint(spec.master0) if master else endpoint(spec.vip)
    doc: dict[str, Any] = {
        "apiVersion": api,
        "kind": "JoinConfiguration",
        "caCertPath": f"{PKI_DIR}/ca.crt",
        "discovery": {
            "bootstrapToken": {
                "apiServerEndpoint": server,
                "token": secrets.token if secrets else PLACEHOLDER_TOKEN,
                "caCertHashes": (
                    list(secrets.ca_cert_hashes) if secrets else [PLACEHOLDER_CA_CERT_HASH]
                ),
            }
        },
        "nodeRegistration": _node_registration(
            cluster, address, node_ip, facts, cri_socket, master=master
        ),
    }
    if master:
        control_plane: dict[str, Any] = {
            "localAPIEndpoint": {"advertiseAddress": node_ip, "bindPort": API_SERVER_PORT}
        }
        # sealer copies the shared PKI to every master itself, so kubeadm finds it and needs
        # no certificate key; one is rendered only when the caller obtained one.
        if secrets is not None and secrets.certificate_key:
            control_plane["certificateKey"] = secrets.certificate_key
        doc["controlPlane"] = control_plane
    patch = dict(spec.kubeadm.join_configuration)
    if not master:
        patch.pop("controlPlane", None)  # a worker never becomes a control-plane node
    return deep_merge(doc, patch, _keyed(v1beta4))


@dataclass(frozen=True)
class RenderedConfig:
    """The kubeadm configuration documents for one host."""

    address: str
    role: Role
    api_version: str
    documents: tuple[dict[str, Any], ...]

    def to_yaml(self) -> str:
        return dump_documents(self.documents)


def dump_documents(documents: tuple[dict[str, Any], ...] | list[dict[str, Any]]) -> str:
    """Multi-document YAML, keys in the order they were built."""
    return dump_yaml(documents, explicit_start=True)


def _check_rendered(address: str, api: str, documents: list[dict[str, Any]]) -> None:
    schemas = dict(_schemas(api))
    schemas["KubeletConfiguration"] = KUBELET_CONFIGURATION
    schemas["KubeProxyConfiguration"] = KUBE_PROXY_CONFIGURATION
    problems: list[str] = []
    for doc in documents:
        kind = str(doc.get("kind"))
        problems += problems_in(schemas[kind], doc, kind)
    if problems:
        raise KubeError(
            f"{address}: the rendered kubeadm configuration is invalid:\n" + "\n".join(problems)
        )


def render_kubeadm_config(
    cluster: Cluster,
    address: str,
    facts: KubeadmHostFacts | None = None,
    secrets: JoinSecrets | None = None,
    *,
    cri_socket: str = CRI_SOCKET,
    image_repository: str | None = None,
) -> RenderedConfig:
    """The documents ``kubeadm init`` (master0) or ``kubeadm join`` (others) uses on a host.

    Without ``secrets`` the join credentials are placeholders (and master0's configuration
    has no ``bootstrapTokens``: kubeadm makes one, see :func:`bootstrap_token`). Raises
    :class:`KubeError` for a bad patch (see :func:`check_patches`) or an address not in the
    Clusterfile.
    """
    spec = cluster.spec
    if address not in spec.all_addresses:
        raise KubeError(
            f"{address} is neither a master nor a node of cluster {cluster.metadata.name}"
        )
    check_patches(cluster)
    facts = facts or KubeadmHostFacts()
    api = kubeadm_api_version(spec.version)
    node_ip = _node_ip(address, facts)
    role: Role
    if address == spec.master0:
        role = "init"
        documents = _init_documents(
            cluster, address, node_ip, facts, cri_socket, image_repository, secrets
        )
    else:
        master = spec.role_of(address) == "master"
        role = "join-master" if master else "join-node"
        documents = [_join_document(cluster, address, node_ip, facts, secrets, cri_socket, master)]
    _check_rendered(address, api, documents)
    return RenderedConfig(address, role, api, tuple(documents))


def cri_socket_of(config: RenderedConfig) -> str:
    """The container runtime endpoint the host's kubelet will use: ``nodeRegistration.
    criSocket`` of its Init/JoinConfiguration (sealer's default, or the user's patch)."""
    for doc in config.documents:
        if doc.get("kind") in ("InitConfiguration", "JoinConfiguration"):
            registration = doc.get("nodeRegistration")
            socket = registration.get("criSocket") if isinstance(registration, dict) else None
            if isinstance(socket, str) and socket:
                return socket
    return CRI_SOCKET


def upgrade_apply_argv(version: str) -> list[str]:
    """``kubeadm upgrade apply`` on master0, keeping sealer's long-lived certificates."""
    return ["kubeadm", "upgrade", "apply", version, "--certificate-renewal=false", "--yes"]


def upgrade_node_argv() -> list[str]:
    """``kubeadm upgrade node`` on the other masters, keeping the certificates."""
    return ["kubeadm", "upgrade", "node", "--certificate-renewal=false"]
