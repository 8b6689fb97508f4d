"""Access reviews and self reviews: answered from the authorizer, never stored."""

from __future__ import annotations

from typing import Any

from sealer_lab.emulate.apiserver.auth import Identity, Request, authorize
from sealer_lab.emulate.apiserver.resources import Resource
from sealer_lab.emulate.apiserver.store import Store

__all__ = ["review"]

Obj = dict[str, Any]


def review(store: Store, who: Identity, res: Resource, body: Obj) -> Obj:
    """SelfSubjectAccessReview, SubjectAccessReview, SelfSubjectReview (``kubectl auth``)."""
    out: Obj = {
        "kind": res.kind,
        "apiVersion": res.api_version,
        "metadata": {"creationTimestamp": None},
    }
    if res.plural == "selfsubjectreviews":
        info: Obj = {"username": who.user, "groups": list(who.groups)}
        out["status"] = {"userInfo": info}
        return out
    spec = body.get("spec") or {}
    subject = who
    if res.plural == "subjectaccessreviews":
        subject = Identity(str(spec.get("user", "")), tuple(spec.get("groups") or ()))
    attrs = spec.get("resourceAttributes")
    if isinstance(attrs, dict):
        req = Request(
            verb=str(attrs.get("verb", "")),
            path="",
            is_resource=True,
            group=str(attrs.get("group", "")),
            resource=str(attrs.get("resource", "")),
            subresource=str(attrs.get("subresource", "")),
            namespace=str(attrs.get("namespace", "")),
            name=str(attrs.get("name", "")),
        )
    else:
        nonres = spec.get("nonResourceAttributes") or {}
        req = Request(verb=str(nonres.get("verb", "")), path=str(nonres.get("path", "")))
    allowed = authorize(store, subject, req)
    out["spec"] = spec
    out["status"] = {"allowed": allowed}
    return out
