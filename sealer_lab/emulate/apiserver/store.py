"""Objects in etcd, with the real apiserver's storage contract.

Keys are ``<prefix>/<resource>/<namespace>/<name>`` (cluster-scoped objects have no namespace
part), values are the object as JSON with ``metadata.resourceVersion`` removed; on read the
resourceVersion is the key's etcd mod_revision. Writes are etcd transactions comparing the
revision read, so concurrent writers through any number of emulated apiservers get 409 Conflict
exactly like against the real one.
"""

from __future__ import annotations

import copy
import datetime
import json
import re
import uuid
from typing import Any

from sealer_lab.emulate.apiserver.etcd import EtcdClient, KeyValue
from sealer_lab.emulate.apiserver.resources import RESOURCES, Resource, find_resource
from sealer_lab.emulate.apiserver.status import (
    ApiError,
    already_exists,
    conflict,
    invalid,
    not_found,
)

__all__ = [
    "PROTECTED_NAMESPACES",
    "SYSTEM_NAMESPACES",
    "Store",
    "now_rfc3339",
]

PROTECTED_NAMESPACES = ("default", "kube-system", "kube-public")
SYSTEM_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_RETRIES = 8

Obj = dict[str, Any]


def now_rfc3339() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _meta(obj: Obj) -> Obj:
    meta = obj.get("metadata")
    if not isinstance(meta, dict):
        meta = {}
        obj["metadata"] = meta
    return meta


class Store:
    """CRUD on API objects kept in etcd."""

    def __init__(self, etcd: EtcdClient, root: str = "/registry") -> None:
        self.etcd = etcd
        self.root = root

    # -- keys and decoding -------------------------------------------------------------

    def key(self, res: Resource, namespace: str, name: str) -> str:
        prefix = res.storage_prefix(self.root)
        return f"{prefix}{namespace}/{name}" if res.namespaced else f"{prefix}{name}"

    def _decode(self, res: Resource, kv: KeyValue) -> Obj:
        obj: Obj = json.loads(kv.value)
        obj["apiVersion"] = res.api_version
        obj["kind"] = res.kind
        _meta(obj)["resourceVersion"] = str(kv.mod_revision)
        return obj

    @staticmethod
    def _encode(obj: Obj) -> bytes:
        stored = copy.deepcopy(obj)
        _meta(stored).pop("resourceVersion", None)
        return json.dumps(stored, separators=(",", ":"), sort_keys=True).encode()

    # -- reads -------------------------------------------------------------------------

    def read(self, res: Resource, namespace: str, name: str) -> tuple[Obj, int]:
        kv = self.etcd.get(self.key(res, namespace, name))
        if kv is None:
            raise not_found(res, name)
        return self._decode(res, kv), kv.mod_revision

    def get(self, res: Resource, namespace: str, name: str) -> Obj:
        return self.read(res, namespace, name)[0]

    def list(
        self, res: Resource, namespace: str | None, revision: int = 0
    ) -> tuple[list[Obj], int]:
        prefix = res.storage_prefix(self.root)
        if res.namespaced and namespace:
            prefix = f"{prefix}{namespace}/"
        kvs, revision = self.etcd.list_prefix(prefix, revision)
        return [self._decode(res, kv) for kv in kvs], revision

    def namespace_exists(self, namespace: str) -> bool:
        ns_res = find_resource("", "v1", "namespaces")
        assert ns_res is not None
        return self.etcd.get(self.key(ns_res, "", namespace)) is not None

    # -- writes ------------------------------------------------------------------------

    def create(self, res: Resource, namespace: str, obj: Obj) -> Obj:
        obj = copy.deepcopy(obj)
        meta = _meta(obj)
        name = meta.get("name") or ""
        if not name and meta.get("generateName"):
            name = f"{meta['generateName']}{uuid.uuid4().hex[:5]}"
            meta["name"] = name
        if not name:
            raise invalid(
                res, "", "metadata.name: Required value: name or generateName is required"
            )
        if res.group == "rbac.authorization.k8s.io":
            if name in {".", ".."} or "/" in name or "%" in name:
                raise invalid(
                    res, name, f"metadata.name: Invalid value: \"{name}\": may not contain '/'"
                )
        elif not _DNS_SUBDOMAIN.match(name) or len(name) > 253:
            raise invalid(
                res,
                name,
                f'metadata.name: Invalid value: "{name}": a lowercase RFC 1123 subdomain must '
                "consist of lower case alphanumeric characters, '-' or '.', and must start and "
                "end with an alphanumeric character",
            )
        if res.namespaced:
            if meta.get("namespace") and meta["namespace"] != namespace:
                raise ApiError(
                    400,
                    "BadRequest",
                    "the namespace of the provided object does not match the namespace sent "
                    "on the request",
                )
            meta["namespace"] = namespace
            if not self.namespace_exists(namespace):
                ns_res = find_resource("", "v1", "namespaces")
                assert ns_res is not None
                raise not_found(ns_res, namespace)
        else:
            meta.pop("namespace", None)
        meta["uid"] = str(uuid.uuid4())
        meta["creationTimestamp"] = now_rfc3339()
        meta.pop("deletionTimestamp", None)
        meta.pop("resourceVersion", None)
        meta.pop("generation", None)
        if res.plural not in {"events", "leases", "configmaps", "secrets", "endpoints"}:
            meta["generation"] = 1
        obj["apiVersion"] = res.api_version
        obj["kind"] = res.kind
        _prepare_for_create(res, obj)
        revision = self.etcd.create(self.key(res, namespace, name), self._encode(obj))
        if revision is None:
            raise already_exists(res, name)
        meta["resourceVersion"] = str(revision)
        return obj

    def update(
        self,
        res: Resource,
        namespace: str,
        name: str,
        new: Obj,
        subresource: str = "",
    ) -> Obj:
        """PUT semantics: optimistic on ``metadata.resourceVersion`` when the client sent one."""
        new_meta = _meta(new)
        if new_meta.get("name") and new_meta["name"] != name:
            raise ApiError(
                400,
                "BadRequest",
                "the name of the object "
                f"({new_meta['name']}) does not match the name on the URL ({name})",
            )
        wanted_rv = str(new_meta.get("resourceVersion") or "")
        for _ in range(_RETRIES):
            old, mod = self.read(res, namespace, name)
            if wanted_rv and wanted_rv != str(mod):
                raise conflict(res, name)
            merged = _merge_for_update(res, old, copy.deepcopy(new), subresource)
            old_meta = _meta(old)
            merged_meta = _meta(merged)
            if old_meta.get("deletionTimestamp") and not merged_meta.get("finalizers"):
                revision = self.etcd.delete(self.key(res, namespace, name), mod)
                if revision is None:
                    continue
                merged_meta["resourceVersion"] = str(revision)
                return merged
            revision = self.etcd.update(self.key(res, namespace, name), self._encode(merged), mod)
            if revision is None:
                if wanted_rv:
                    raise conflict(res, name)
                continue
            merged_meta["resourceVersion"] = str(revision)
            return merged
        raise conflict(res, name)

    def delete(
        self,
        res: Resource,
        namespace: str,
        name: str,
        precondition_uid: str = "",
        precondition_rv: str = "",
    ) -> Obj:
        """Delete now, or mark ``deletionTimestamp`` when finalizers remain. Returns the object."""
        if res.plural == "namespaces" and name in PROTECTED_NAMESPACES:
            raise ApiError(
                403,
                "Forbidden",
                f'namespaces "{name}" is forbidden: this namespace may not be deleted',
                {"name": name, "kind": "namespaces"},
            )
        for _ in range(_RETRIES):
            obj, mod = self.read(res, namespace, name)
            meta = _meta(obj)
            if precondition_uid and meta.get("uid") != precondition_uid:
                raise conflict(
                    res,
                    name,
                    f"Precondition failed: UID in precondition: {precondition_uid}, "
                    f"UID in object meta: {meta.get('uid')}",
                )
            if precondition_rv and precondition_rv != str(mod):
                raise conflict(
                    res,
                    name,
                    f"Precondition failed: ResourceVersion in precondition: {precondition_rv}, "
                    f"ResourceVersion in object meta: {mod}",
                )
            if meta.get("finalizers"):
                if not meta.get("deletionTimestamp"):
                    meta["deletionTimestamp"] = now_rfc3339()
                    meta["deletionGracePeriodSeconds"] = 0
                revision = self.etcd.update(self.key(res, namespace, name), self._encode(obj), mod)
            else:
                revision = self.etcd.delete(self.key(res, namespace, name), mod)
            if revision is None:
                continue
            meta["resourceVersion"] = str(revision)
            self._cascade(res, name)
            return obj
        raise conflict(res, name)

    def _cascade(self, res: Resource, name: str) -> None:
        """Garbage collection the real controllers would do shortly after a delete."""
        if res.plural == "namespaces":
            for other in RESOURCES:
                if other.namespaced:
                    self._delete_all(other, name, lambda _o: True)
        elif res.plural == "nodes":
            lease = find_resource("coordination.k8s.io", "v1", "leases")
            pods = find_resource("", "v1", "pods")
            assert lease is not None and pods is not None
            self._delete_all(lease, "kube-node-lease", lambda o: _meta(o).get("name") == name)
            self._delete_all(pods, "", lambda o: o.get("spec", {}).get("nodeName") == name)

    def _delete_all(self, res: Resource, namespace: str, keep: Any) -> None:
        items, _ = self.list(res, namespace or None)
        for item in items:
            if not keep(item):
                continue
            meta = _meta(item)
            kv_key = self.key(res, str(meta.get("namespace", "")), str(meta.get("name", "")))
            self.etcd.delete(kv_key, int(meta["resourceVersion"]))

    def ensure(self, res: Resource, namespace: str, obj: Obj) -> None:
        """Create ``obj`` unless it exists (start-up bootstrap objects)."""
        try:
            self.create(res, namespace, obj)
        except ApiError as exc:
            if exc.code != 409:
                raise


def _prepare_for_create(res: Resource, obj: Obj) -> None:
    """Field resets the real registry strategies do on create."""
    if res.plural == "namespaces":
        obj["spec"] = {"finalizers": ["kubernetes"]}
        obj["status"] = {"phase": "Active"}
        labels = _meta(obj).setdefault("labels", {})
        labels["kubernetes.io/metadata.name"] = _meta(obj)["name"]
    elif res.plural == "pods":
        obj["status"] = {"phase": "Pending", "qosClass": "BestEffort"}
        obj.setdefault("spec", {})
    elif res.plural == "certificatesigningrequests":
        obj["status"] = {}
    elif res.plural == "leases":
        _meta(obj).pop("generation", None)


def _merge_for_update(res: Resource, old: Obj, new: Obj, subresource: str) -> Obj:
    """Keep what an update may not change: identity, and the half the subresource excludes."""
    old_meta = _meta(old)
    new_meta = _meta(new)
    for field in ("uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds"):
        if field in old_meta:
            new_meta[field] = old_meta[field]
        else:
            new_meta.pop(field, None)
    new_meta["name"] = old_meta.get("name")
    if res.namespaced:
        new_meta["namespace"] = old_meta.get("namespace")
    new_meta.pop("resourceVersion", None)
    new["apiVersion"] = res.api_version
    new["kind"] = res.kind
    if subresource in {"status", "approval"}:
        merged = copy.deepcopy(old)
        if subresource == "status":
            merged["status"] = new.get("status", {})
            if res.plural == "certificatesigningrequests":
                # approval conditions are only changed through /approval
                merged["status"]["conditions"] = old.get("status", {}).get("conditions", [])
        else:
            status = merged.setdefault("status", {})
            status["conditions"] = new.get("status", {}).get("conditions", [])
        _meta(merged).pop("resourceVersion", None)
        return merged
    if subresource == "finalize":
        merged = copy.deepcopy(old)
        merged["spec"] = new.get("spec", {})
        _meta(merged).pop("resourceVersion", None)
        return merged
    if res.has_status or res.plural == "certificatesigningrequests":
        if "status" in old:
            new["status"] = old["status"]
        else:
            new.pop("status", None)
    if "generation" in old_meta:
        generation = int(old_meta["generation"])
        if new.get("spec") != old.get("spec"):
            generation += 1
        new_meta["generation"] = generation
    return new
