"""The API resources the emulator serves: group, version, kind, scope, verbs, subresources."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["RESOURCES", "VERBS", "Resource", "find_resource", "group_versions"]

# Where the real apiserver keeps these resources under /registry when it differs from the plural.
_STORAGE_NAMES = {
    "nodes": "minions",
    "services": "services/specs",
    "endpoints": "services/endpoints",
}

_ALL_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")


@dataclass(frozen=True)
class Resource:
    group: str
    version: str
    kind: str
    plural: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    subresources: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    verbs: tuple[str, ...] = ()  # empty: all of VERBS; reviews are create-only and not stored

    @property
    def stored(self) -> bool:
        return self.verbs != ("create",)

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def singular(self) -> str:
        return self.kind.lower()

    @property
    def has_status(self) -> bool:
        return "status" in self.subresources

    def storage_prefix(self, root: str) -> str:
        """etcd key prefix, as the real apiserver lays it out (``/registry/<resource>/``)."""
        name = _STORAGE_NAMES.get(self.plural, self.plural)
        return f"{root}/{name}/"


RESOURCES: tuple[Resource, ...] = (
    Resource("", "v1", "Namespace", "namespaces", False, ("ns",), ("finalize", "status")),
    Resource("", "v1", "Node", "nodes", False, ("no",), ("proxy", "status")),
    Resource("", "v1", "Pod", "pods", True, ("po",), ("eviction", "status", "log"), ("all",)),
    Resource("", "v1", "ConfigMap", "configmaps", True, ("cm",)),
    Resource("", "v1", "Secret", "secrets", True),
    Resource("", "v1", "Service", "services", True, ("svc",), ("status",), ("all",)),
    Resource("", "v1", "Endpoints", "endpoints", True, ("ep",)),
    Resource("", "v1", "ServiceAccount", "serviceaccounts", True, ("sa",)),
    Resource("", "v1", "Event", "events", True, ("ev",)),
    Resource("apps", "v1", "DaemonSet", "daemonsets", True, ("ds",), ("status",), ("all",)),
    Resource("apps", "v1", "Deployment", "deployments", True, ("deploy",), ("status",), ("all",)),
    Resource("apps", "v1", "ReplicaSet", "replicasets", True, ("rs",), ("status",), ("all",)),
    Resource("coordination.k8s.io", "v1", "Lease", "leases", True),
    Resource(
        "certificates.k8s.io",
        "v1",
        "CertificateSigningRequest",
        "certificatesigningrequests",
        False,
        ("csr",),
        ("approval", "status"),
    ),
    Resource("policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets", True, ("pdb",)),
    Resource("rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", False),
    Resource("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", "clusterrolebindings", False),
    Resource("rbac.authorization.k8s.io", "v1", "Role", "roles", True),
    Resource("rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings", True),
    Resource(
        "authorization.k8s.io",
        "v1",
        "SelfSubjectAccessReview",
        "selfsubjectaccessreviews",
        False,
        verbs=("create",),
    ),
    Resource(
        "authorization.k8s.io",
        "v1",
        "SubjectAccessReview",
        "subjectaccessreviews",
        False,
        verbs=("create",),
    ),
    Resource(
        "authentication.k8s.io",
        "v1",
        "SelfSubjectReview",
        "selfsubjectreviews",
        False,
        verbs=("create",),
    ),
)

VERBS = _ALL_VERBS


def find_resource(group: str, version: str, plural: str) -> Resource | None:
    for res in RESOURCES:
        if res.group == group and res.version == version and res.plural == plural:
            return res
    return None


def group_versions() -> list[tuple[str, str]]:
    """(group, version) pairs in discovery order, the core group first."""
    seen: list[tuple[str, str]] = []
    for res in RESOURCES:
        if (res.group, res.version) not in seen:
            seen.append((res.group, res.version))
    return seen
