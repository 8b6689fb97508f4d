"""Authentication (client certificates, bootstrap tokens, anonymous) and authorization.

Authorization is, in order: ``system:masters`` may do anything; then a built-in rule set that
stands in for the bootstrap policy the real apiserver installs plus the RBAC objects kubeadm
creates (so a cluster works even when nobody wrote those objects); then a small RBAC evaluator
over the Role/ClusterRole/RoleBinding/ClusterRoleBinding objects actually stored in etcd (so
kubeadm's ``kubeadm:cluster-admins`` binding makes the v1.29 admin.conf an administrator).
"""

from __future__ import annotations

import base64
import datetime
import hmac
import re
import ssl
import time
from dataclasses import dataclass, field
from typing import Any

from sealer_lab.emulate.apiserver.resources import find_resource
from sealer_lab.emulate.apiserver.status import ApiError
from sealer_lab.emulate.apiserver.store import Store

__all__ = [
    "ANONYMOUS",
    "Identity",
    "Request",
    "authenticate_token",
    "authorize",
    "cert_in_validity",
    "forbidden_message",
    "identity_from_cert",
    "token_expired",
]

ANONYMOUS = "system:anonymous"
_TOKEN = re.compile(r"^([a-z0-9]{6})\.([a-z0-9]{16})$")
_PUBLIC_PATHS = ("/healthz", "/livez", "/readyz", "/version")
_DISCOVERY_PREFIXES = ("/api", "/apis", "/openapi")
_TRUSTED_COMPONENTS = ("system:kube-controller-manager", "system:kube-scheduler")


@dataclass(frozen=True)
class Identity:
    user: str
    groups: tuple[str, ...] = ()

    @property
    def is_node(self) -> bool:
        return "system:nodes" in self.groups and self.user.startswith("system:node:")

    @property
    def node_name(self) -> str:
        return self.user.removeprefix("system:node:") if self.is_node else ""


@dataclass(frozen=True)
class Request:
    """What is being asked, in the terms of Kubernetes' authorizer attributes."""

    verb: str
    path: str
    is_resource: bool = False
    group: str = ""
    resource: str = ""
    subresource: str = ""
    namespace: str = ""
    name: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def resource_path(self) -> str:
        return f"{self.resource}/{self.subresource}" if self.subresource else self.resource


def cert_in_validity(cert: dict[str, Any], now: float | None = None) -> bool:
    """Whether ``now`` is within a peer certificate's notBefore and notAfter (``getpeercert``
    form: ``'Jan  1 00:00:00 2026 GMT'``)."""
    moment = time.time() if now is None else now
    try:
        start = ssl.cert_time_to_seconds(str(cert["notBefore"]))
        end = ssl.cert_time_to_seconds(str(cert["notAfter"]))
    except (KeyError, ValueError):
        return False
    return start <= moment <= end


def identity_from_cert(subject: tuple[tuple[tuple[str, str], ...], ...]) -> Identity:
    """CN is the user name, every O is a group (ssl.getpeercert() subject layout)."""
    user = ""
    groups: list[str] = []
    for rdn in subject:
        for key, value in rdn:
            if key == "commonName":
                user = value
            elif key == "organizationName":
                groups.append(value)
    return Identity(user, (*groups, "system:authenticated"))


def _b64text(data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str):
        return ""
    try:
        return base64.b64decode(value).decode()
    except ValueError:
        return ""


def token_expired(expiration: str, now: datetime.datetime | None = None) -> bool:
    if not expiration:
        return False
    try:
        when = datetime.datetime.fromisoformat(expiration.replace("Z", "+00:00"))
    except ValueError:
        return True  # the real authenticator rejects tokens whose expiration does not parse
    return (now or datetime.datetime.now(datetime.UTC)) >= when


def authenticate_token(store: Store, token: str) -> Identity | None:
    """A bootstrap token ``<id>.<secret>``, checked against its Secret in kube-system."""
    match = _TOKEN.match(token)
    if match is None:
        return None
    token_id, token_secret = match.groups()
    secrets = find_resource("", "v1", "secrets")
    assert secrets is not None
    try:
        secret = store.get(secrets, "kube-system", f"bootstrap-token-{token_id}")
    except ApiError:
        return None
    if secret.get("type") != "bootstrap.kubernetes.io/token":
        return None
    if secret.get("metadata", {}).get("deletionTimestamp"):
        return None
    data = secret.get("data") or {}
    if _b64text(data, "token-id") != token_id:
        return None
    if not hmac.compare_digest(_b64text(data, "token-secret"), token_secret):
        return None
    if _b64text(data, "usage-bootstrap-authentication") != "true":
        return None
    if token_expired(_b64text(data, "expiration")):
        return None
    groups = ["system:bootstrappers"]
    for group in _b64text(data, "auth-extra-groups").split(","):
        group = group.strip()
        if group.startswith("system:bootstrappers:") and group not in groups:
            groups.append(group)
    return Identity(f"system:bootstrap:{token_id}", (*groups, "system:authenticated"))


def _builtin(who: Identity, req: Request) -> bool:
    """The policy every kubeadm cluster has, whether or not its RBAC objects were stored."""
    if "system:masters" in who.groups or who.user in _TRUSTED_COMPONENTS:
        return True
    if not req.is_resource:
        path = req.path.rstrip("/") or "/"
        if req.verb == "get" and any(path == p or path.startswith(p + "/") for p in _PUBLIC_PATHS):
            return True  # system:public-info-viewer: authenticated and unauthenticated
        authenticated = "system:authenticated" in who.groups
        return authenticated and req.verb == "get" and path.startswith(_DISCOVERY_PREFIXES)
    if (
        req.resource == "configmaps"
        and req.namespace == "kube-public"
        and req.name == "cluster-info"
        and req.verb == "get"
    ):
        return True  # kubeadm:bootstrap-signer-clusterinfo grants this to system:anonymous
    if req.group in {"authorization.k8s.io", "authentication.k8s.io"} and req.resource.startswith(
        "self"
    ):
        return "system:authenticated" in who.groups
    if "system:bootstrappers" in who.groups and _bootstrapper(req):
        return True
    return who.is_node and _node(who.node_name, req)


def _bootstrapper(req: Request) -> bool:
    if req.resource == "certificatesigningrequests":
        return req.verb in {"create", "get", "list", "watch"} and not req.subresource
    if req.resource == "configmaps":
        return (
            req.verb == "get"
            and req.namespace == "kube-system"
            and req.name in {"kubeadm-config", "kubelet-config", "kube-proxy"}
        )
    if req.resource == "nodes":
        # kubeadm:get-nodes grants get; create/update/patch is an emulator convenience so a
        # kubelet emulator that skips TLS bootstrap can still register its Node (documented)
        return req.verb in {"get", "list", "watch", "create", "update", "patch"}
    if req.resource == "leases":
        return req.namespace == "kube-node-lease"
    return False


def _node(node: str, req: Request) -> bool:
    """The Node authorizer plus NodeRestriction, simplified (see the doc)."""
    verb = req.verb
    reads = {"get", "list", "watch"}
    if req.resource == "nodes":
        if verb in reads:
            return True
        return req.name == node or (verb == "create" and not req.name)
    if req.resource == "leases":
        return req.namespace == "kube-node-lease" and (req.name == node or verb == "create")
    if req.resource == "pods":
        if verb in reads:
            return True
        return verb in {"create", "update", "patch", "delete"}  # own pods: checked on admission
    if req.resource == "events":
        return verb in {"create", "update", "patch"}
    if req.resource == "certificatesigningrequests":
        return verb in {"create", "get", "list", "watch"} and not req.subresource
    if req.resource in {"services", "endpoints", "configmaps"}:
        return verb in reads and (req.resource != "configmaps" or req.namespace == "kube-system")
    return False


def _rule_allows(rule: dict[str, Any], req: Request) -> bool:
    verbs = rule.get("verbs") or []
    if "*" not in verbs and req.verb not in verbs:
        return False
    if not req.is_resource:
        for url in rule.get("nonResourceURLs") or []:
            if url == req.path or (url.endswith("*") and req.path.startswith(url[:-1])):
                return True
        return False
    groups = rule.get("apiGroups") or []
    if "*" not in groups and req.group not in groups:
        return False
    resources = rule.get("resources") or []
    wanted = req.resource_path
    if not (
        "*" in resources
        or wanted in resources
        or (req.subresource and f"*/{req.subresource}" in resources)
        or (req.subresource and f"{req.resource}/*" in resources)
    ):
        return False
    names = rule.get("resourceNames") or []
    return not names or req.name in names


def _subject_matches(subject: dict[str, Any], who: Identity, binding_ns: str) -> bool:
    kind = subject.get("kind")
    name = subject.get("name")
    if kind == "User":
        return bool(name == who.user)
    if kind == "Group":
        return name in who.groups
    if kind == "ServiceAccount":
        ns = subject.get("namespace") or binding_ns
        return who.user == f"system:serviceaccount:{ns}:{name}"
    return False


def _rbac(store: Store, who: Identity, req: Request) -> bool:
    rbac = "rbac.authorization.k8s.io"
    crb = find_resource(rbac, "v1", "clusterrolebindings")
    rb = find_resource(rbac, "v1", "rolebindings")
    cr = find_resource(rbac, "v1", "clusterroles")
    role = find_resource(rbac, "v1", "roles")
    assert crb is not None and rb is not None and cr is not None and role is not None
    bindings, _ = store.list(crb, None)
    if req.is_resource and req.namespace:
        namespaced, _ = store.list(rb, req.namespace)
        bindings += namespaced
    for binding in bindings:
        binding_ns = binding.get("metadata", {}).get("namespace", "")
        if not any(_subject_matches(s, who, binding_ns) for s in binding.get("subjects") or []):
            continue
        ref = binding.get("roleRef") or {}
        ref_name = str(ref.get("name", ""))
        if ref.get("kind") == "ClusterRole" and ref_name == "cluster-admin":
            return True
        try:
            if ref.get("kind") == "ClusterRole":
                rules = store.get(cr, "", ref_name).get("rules") or []
            else:
                rules = store.get(role, binding_ns, ref_name).get("rules") or []
        except ApiError:
            continue
        if any(_rule_allows(rule, req) for rule in rules):
            return True
    return False


def authorize(store: Store, who: Identity, req: Request) -> bool:
    return _builtin(who, req) or _rbac(store, who, req)


def forbidden_message(who: Identity, req: Request) -> str:
    if not req.is_resource:
        return f'forbidden: User "{who.user}" cannot {req.verb} path "{req.path}"'
    where = f'in the namespace "{req.namespace}"' if req.namespace else "at the cluster scope"
    return (
        f'User "{who.user}" cannot {req.verb} resource "{req.resource_path}" in API group '
        f'"{req.group}" {where}'
    )
