"""What kubeadm writes through the API: configs, bootstrap tokens, cluster-info, RBAC,
kubeadm-certs (AES-GCM with the certificate key), control-plane labels and taints."""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import os
import re
import secrets
import time
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from sealer_lab.emulate import pki, yamlio
from sealer_lab.emulate.kubeadm import certs
from sealer_lab.emulate.kubeadm.errors import KubeadmError
from sealer_lab.emulate.kubeadm.settings import Settings
from sealer_lab.emulate.kubeapi import ApiError, Client

__all__ = [
    "TOKEN_RE",
    "create_token",
    "download_certs",
    "generate_token",
    "mark_control_plane",
    "upload_certs",
    "wait_healthy",
]

TOKEN_RE = re.compile(r"^([a-z0-9]{6})\.([a-z0-9]{16})$")
CERTS_SECRET = "kubeadm-certs"
_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"


def generate_token() -> str:
    def part(n: int) -> str:
        return "".join(secrets.choice(_ALPHABET) for _ in range(n))

    return f"{part(6)}.{part(16)}"


def generate_certificate_key() -> str:
    return secrets.token_hex(32)


def _b64(text: str | bytes) -> str:
    return base64.b64encode(text.encode() if isinstance(text, str) else text).decode()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def _ttl_seconds(ttl: str) -> int:
    total = 0.0
    for number, unit in re.findall(r"(\d+(?:\.\d+)?)(h|m|s)", ttl or "24h0m0s"):
        total += float(number) * {"h": 3600, "m": 60, "s": 1}[unit]
    return int(total)


def token_secret(
    token: str,
    *,
    ttl: str = "24h0m0s",
    description: str = "",
    usages: list[str] | None = None,
    groups: list[str] | None = None,
) -> dict[str, Any]:
    m = TOKEN_RE.match(token)
    if not m:
        raise KubeadmError(
            f'the bootstrap token "{token}" was not of the form '
            '"^([a-z0-9]{6})\\.([a-z0-9]{16})$"'
        )
    tid, secret = m.groups()
    data = {"token-id": _b64(tid), "token-secret": _b64(secret)}
    seconds = _ttl_seconds(ttl)
    if seconds > 0:
        data["expiration"] = _b64(
            (_now() + dt.timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")
        )
    if description:
        data["description"] = _b64(description)
    for usage in ["signing", "authentication"] if usages is None else usages:
        data[f"usage-bootstrap-{usage}"] = _b64("true")
    extra = ["system:bootstrappers:kubeadm:default-node-token"] if groups is None else groups
    if extra:
        data["auth-extra-groups"] = _b64(",".join(extra))
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": f"bootstrap-token-{tid}", "namespace": "kube-system"},
        "type": "bootstrap.kubernetes.io/token",
        "data": data,
    }


def create_token(c: Client, token: str, **kw: Any) -> None:
    c.apply("/api/v1/namespaces/kube-system/secrets", token_secret(token, **kw))


def _cm(namespace: str, name: str, data: dict[str, str]) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": namespace},
        "data": data,
    }


def cluster_configuration(s: Settings) -> dict[str, Any]:
    doc = dict(s.cluster_doc)
    doc["apiVersion"] = s.api_version
    doc["kind"] = "ClusterConfiguration"
    doc["kubernetesVersion"] = str(s.version)
    doc.setdefault("certificatesDir", str(s.cert_dir))
    doc.setdefault("clusterName", s.cluster_name)
    doc.setdefault("imageRepository", s.image_repository)
    net = dict(doc.get("networking") or {})
    net.setdefault("dnsDomain", s.dns_domain)
    net.setdefault("serviceSubnet", s.service_subnet)
    if s.pod_subnet:
        net.setdefault("podSubnet", s.pod_subnet)
    doc["networking"] = net
    if not s.etcd_external:
        etcd = dict(doc.get("etcd") or {})
        local = dict(etcd.get("local") or {})
        local.setdefault("dataDir", s.etcd_data_dir)
        etcd["local"] = local
        doc["etcd"] = etcd
    return doc


def upload_config(c: Client, s: Settings, kubelet_cfg: dict[str, Any]) -> list[str]:
    c.apply(
        "/api/v1/namespaces/kube-system/configmaps",
        _cm(
            "kube-system",
            "kubeadm-config",
            {"ClusterConfiguration": yamlio.dump(cluster_configuration(s))},
        ),
    )
    c.apply(
        "/api/v1/namespaces/kube-system/configmaps",
        _cm("kube-system", "kubelet-config", {"kubelet": yamlio.dump(kubelet_cfg)}),
    )
    _rbac_role(
        c,
        "kube-system",
        "kubeadm:nodes-kubeadm-config",
        "configmaps",
        ["kubeadm-config"],
        ["system:bootstrappers:kubeadm:default-node-token", "system:nodes"],
    )
    _rbac_role(
        c,
        "kube-system",
        "kubeadm:kubelet-config",
        "configmaps",
        ["kubelet-config"],
        ["system:bootstrappers:kubeadm:default-node-token", "system:nodes"],
    )
    return [
        '[upload-config] Storing the configuration used in ConfigMap "kubeadm-config" in the '
        '"kube-system" Namespace',
        '[kubelet] Creating a ConfigMap "kubelet-config" in namespace kube-system with the '
        "configuration for the kubelets in the cluster",
    ]


def _rbac_role(
    c: Client, ns: str, name: str, resource: str, names: list[str], groups: list[str]
) -> None:
    rbac = "/apis/rbac.authorization.k8s.io/v1"
    try:
        c.apply(
            f"{rbac}/namespaces/{ns}/roles",
            {
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "Role",
                "metadata": {"name": name, "namespace": ns},
                "rules": [
                    {
                        "apiGroups": [""],
                        "resources": [resource],
                        "resourceNames": names,
                        "verbs": ["get"],
                    }
                ],
            },
        )
        c.apply(
            f"{rbac}/namespaces/{ns}/rolebindings",
            {
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "RoleBinding",
                "metadata": {"name": name, "namespace": ns},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
                "subjects": [
                    {"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": g}
                    for g in groups
                ],
            },
        )
    except ApiError:
        pass  # RBAC objects are recorded where the emulated API server serves them


def _cluster_binding(c: Client, name: str, role: str, subjects: list[dict[str, str]]) -> None:
    with contextlib.suppress(ApiError):
        c.apply(
            "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings",
            {
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "ClusterRoleBinding",
                "metadata": {"name": name},
                "roleRef": {
                    "apiGroup": "rbac.authorization.k8s.io",
                    "kind": "ClusterRole",
                    "name": role,
                },
                "subjects": subjects,
            },
        )


def cluster_info_kubeconfig(server: str, ca_pem: bytes) -> str:
    return yamlio.dump(
        {
            "apiVersion": "v1",
            "clusters": [
                {
                    "cluster": {"certificate-authority-data": _b64(ca_pem), "server": server},
                    "name": "",
                }
            ],
            "contexts": None,
            "current-context": "",
            "kind": "Config",
            "preferences": {},
            "users": None,
        }
    )


def bootstrap_token_phase(c: Client, s: Settings) -> tuple[list[str], list[str]]:
    """Tokens + RBAC + cluster-info. Returns (output lines, tokens)."""
    out = ["[bootstrap-token] Configuring bootstrap tokens, cluster-info ConfigMap, RBAC Roles"]
    tokens: list[str] = []
    specs = s.bootstrap_tokens or [{}]
    for spec in specs:
        token = str(spec.get("token") or generate_token())
        create_token(
            c,
            token,
            ttl=str(spec.get("ttl") or "24h0m0s"),
            description=str(spec.get("description") or ""),
            usages=spec.get("usages"),
            groups=spec.get("groups"),
        )
        tokens.append(token)
    group = "system:bootstrappers:kubeadm:default-node-token"
    grp = {"apiGroup": "rbac.authorization.k8s.io", "kind": "Group"}
    _cluster_binding(
        c, "kubeadm:kubelet-bootstrap", "system:node-bootstrapper", [{**grp, "name": group}]
    )
    _cluster_binding(
        c,
        "kubeadm:node-autoapprove-bootstrap",
        "system:certificates.k8s.io:certificatesigningrequests:nodeclient",
        [{**grp, "name": group}],
    )
    _cluster_binding(
        c,
        "kubeadm:node-autoapprove-certificate-rotation",
        "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient",
        [{**grp, "name": "system:nodes"}],
    )
    with contextlib.suppress(ApiError):
        c.apply(
            "/apis/rbac.authorization.k8s.io/v1/clusterroles",
            {
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "ClusterRole",
                "metadata": {"name": "kubeadm:get-nodes"},
                "rules": [{"apiGroups": [""], "resources": ["nodes"], "verbs": ["get"]}],
            },
        )
    _cluster_binding(c, "kubeadm:get-nodes", "kubeadm:get-nodes", [{**grp, "name": group}])
    out += [
        "[bootstrap-token] Configured RBAC rules to allow Node Bootstrap tokens to get nodes",
        "[bootstrap-token] Configured RBAC rules to allow Node Bootstrap tokens to post CSRs in "
        "order for nodes to get long term certificate credentials",
        "[bootstrap-token] Configured RBAC rules to allow the csrapprover controller "
        "automatically approve CSRs from a Node Bootstrap Token",
        "[bootstrap-token] Configured RBAC rules to allow certificate rotation for all node "
        "client certificates in the cluster",
        '[bootstrap-token] Creating the "cluster-info" ConfigMap in the "kube-public" namespace',
    ]
    ca_pem = (s.cert_dir / "ca.crt").read_bytes()
    c.apply(
        "/api/v1/namespaces/kube-public/configmaps",
        _cm(
            "kube-public",
            "cluster-info",
            {"kubeconfig": cluster_info_kubeconfig(s.api_server_url, ca_pem)},
        ),
    )
    _rbac_role(
        c,
        "kube-public",
        "kubeadm:bootstrap-signer-clusterinfo",
        "configmaps",
        ["cluster-info"],
        ["system:anonymous"],
    )
    return out, tokens


def _encrypt(key_hex: str, data: bytes) -> bytes:
    nonce = os.urandom(12)
    return nonce + AESGCM(bytes.fromhex(key_hex)).encrypt(nonce, data, None)


def _decrypt(key_hex: str, data: bytes) -> bytes:
    return AESGCM(bytes.fromhex(key_hex)).decrypt(data[:12], data[12:], None)


def _secret_name(file: str) -> str:
    return file.replace("/", "-")


def upload_certs(c: Client, s: Settings, key: str) -> list[str]:
    local_etcd = not s.etcd_external
    data = {}
    for f in certs.shared_files(local_etcd):
        path = s.cert_dir / f
        if path.is_file():
            data[_secret_name(f)] = _b64(_encrypt(key, path.read_bytes()))
    # kubeadm ties the Secret to a 2h bootstrap token (not for authentication) as its TTL
    owner = generate_token()
    create_token(
        c,
        owner,
        ttl="2h0m0s",
        description="Proxy for managing TTL for the kubeadm-certs secret",
        usages=[],
        groups=[],
    )
    c.apply(
        "/api/v1/namespaces/kube-system/secrets",
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": CERTS_SECRET, "namespace": "kube-system"},
            "type": "Opaque",
            "data": data,
        },
    )
    _rbac_role(
        c,
        "kube-system",
        "kubeadm:kubeadm-certs",
        "secrets",
        [CERTS_SECRET],
        ["system:bootstrappers:kubeadm:default-node-token"],
    )
    return [
        f'[upload-certs] Storing the certificates in Secret "{CERTS_SECRET}" in the '
        '"kube-system" Namespace',
        "[upload-certs] Using certificate key:",
        key,
    ]


def download_certs(c: Client, key: str, cert_dir: Path) -> list[str]:
    try:
        secret = c.get(f"/api/v1/namespaces/kube-system/secrets/{CERTS_SECRET}")
    except ApiError as exc:
        if exc.status == 404:
            raise KubeadmError(
                f'error downloading the secret: secrets "{CERTS_SECRET}" not found'
            ) from None
        raise KubeadmError(f"error downloading the secret: {exc.message}") from None
    try:
        bytes.fromhex(key)
        if len(key) != 64:
            raise ValueError
    except ValueError:
        raise KubeadmError(
            "error decoding certificate key: encoding/hex: invalid byte or odd length"
        ) from None
    data = secret.get("data") or {}
    written = []
    for f in certs.shared_files(local_etcd=True):
        blob = data.get(_secret_name(f))
        if not blob:
            continue
        try:
            plain = _decrypt(key, base64.b64decode(blob))
        except Exception:
            raise KubeadmError(
                "error decrypting secret data with the provided key: cipher: message "
                "authentication failed"
            ) from None
        mode = 0o600 if f.endswith(".key") else 0o644
        pki.write_file(cert_dir / f, plain, mode)
        written.append(f)
    return [
        '[download-certs] Downloading the certificates in Secret "kubeadm-certs" in the '
        '"kube-system" Namespace',
        f'[download-certs] Saving the certificates to the folder: "{cert_dir}"',
    ]


def mark_control_plane(c: Client, s: Settings, timeout: float = 240.0) -> list[str]:
    node = s.node_name
    out = [
        f"[mark-control-plane] Marking the node {node} as control-plane by adding the labels: "
        "[node-role.kubernetes.io/control-plane node.kubernetes.io/"
        "exclude-from-external-load-balancers]",
        f"[mark-control-plane] Marking the node {node} as control-plane by adding the taints "
        "[node-role.kubernetes.io/control-plane:NoSchedule]",
    ]
    taints = (
        s.taints
        if s.taints is not None
        else [{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]
    )
    deadline = time.monotonic() + timeout
    while True:
        try:
            obj = c.get(f"/api/v1/nodes/{node}")
            meta = obj.setdefault("metadata", {})
            labels = meta.setdefault("labels", {})
            labels["node-role.kubernetes.io/control-plane"] = ""
            labels["node.kubernetes.io/exclude-from-external-load-balancers"] = ""
            meta.setdefault("annotations", {})["kubeadm.alpha.kubernetes.io/cri-socket"] = (
                s.cri_socket
            )
            spec = obj.setdefault("spec", {})
            have = spec.get("taints") or []
            keys = {(t.get("key"), t.get("effect")) for t in have}
            spec["taints"] = have + [
                t for t in taints if (t.get("key"), t.get("effect")) not in keys
            ]
            c.put(f"/api/v1/nodes/{node}", obj)
            return out
        except ApiError as exc:
            if time.monotonic() > deadline:
                raise KubeadmError(
                    f"error execution phase mark-control-plane: error patching node "
                    f'"{node}" through apiserver: {exc.message}'
                ) from None
            time.sleep(1.0)


def ensure_admin_binding(admin: Client, super_admin: Client | None) -> None:
    """1.29+: bind group kubeadm:cluster-admins to cluster-admin (with super-admin.conf when
    admin.conf may not do it yet), as kubeadm's EnsureAdminClusterRoleBinding does."""
    binding = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRoleBinding",
        "metadata": {"name": "kubeadm:cluster-admins"},
        "roleRef": {
            "apiGroup": "rbac.authorization.k8s.io",
            "kind": "ClusterRole",
            "name": "cluster-admin",
        },
        "subjects": [
            {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "Group",
                "name": "kubeadm:cluster-admins",
            }
        ],
    }
    path = "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings"
    deadline = time.monotonic() + 60
    while True:
        try:
            admin.create(path, binding)
            return
        except ApiError as exc:
            if exc.status == 409:
                return
            if exc.status == 403 and super_admin is not None:
                try:
                    super_admin.create(path, binding)
                    return
                except ApiError as inner:
                    if inner.status == 409:
                        return
                    exc = inner
            if time.monotonic() > deadline:
                raise
        time.sleep(0.5)


def wait_healthy(c: Client, timeout: float) -> float:
    start = time.monotonic()
    while True:
        try:
            c.request("GET", "/healthz")
            return time.monotonic() - start
        except ApiError:
            if time.monotonic() - start > timeout:
                raise
            time.sleep(0.5)


def now_rfc3339() -> str:
    return _now().strftime("%Y-%m-%dT%H:%M:%SZ")
