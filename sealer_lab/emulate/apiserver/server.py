"""The HTTPS front: routing, authentication, authorization, and the REST verbs."""

from __future__ import annotations

import datetime
import json
import os
import socket
import ssl
import sys
import threading
import time
import traceback
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from sealer_lab.emulate.apiserver import discovery, openapi, routing
from sealer_lab.emulate.apiserver.auth import (
    ANONYMOUS,
    Identity,
    Request,
    authenticate_token,
    authorize,
    cert_in_validity,
    forbidden_message,
    identity_from_cert,
)
from sealer_lab.emulate.apiserver.bodies import (
    apply_body,
    check_kind,
    list_doc,
    sends_rv,
    string_data,
)
from sealer_lab.emulate.apiserver.etcd import EtcdClient, EtcdUnavailable
from sealer_lab.emulate.apiserver.flags import Options
from sealer_lab.emulate.apiserver.lifecycle import apply_node_lifecycle
from sealer_lab.emulate.apiserver.listen import make_server
from sealer_lab.emulate.apiserver.patch import PatchError, apply_patch
from sealer_lab.emulate.apiserver.resources import Resource, find_resource
from sealer_lab.emulate.apiserver.reviews import review
from sealer_lab.emulate.apiserver.routing import Route
from sealer_lab.emulate.apiserver.selectors import field_selector, label_selector
from sealer_lab.emulate.apiserver.status import ApiError, bad_request, forbidden, invalid
from sealer_lab.emulate.apiserver.store import Store
from sealer_lab.emulate.apiserver.tables import to_table

__all__ = ["ApiServer", "VersionInfo", "serve"]

Obj = dict[str, Any]
_WATCH_POLL_SECONDS = 0.5
_HEALTH_CHECKS = ("ping", "log", "etcd", "poststarthook/start-apiextensions-informers")


@dataclass(frozen=True)
class VersionInfo:
    git_version: str

    @property
    def minor(self) -> int:
        core = self.git_version.lstrip("v").split("-")[0].split(".")
        return int(core[1]) if len(core) > 1 and core[1].isdigit() else 0

    def document(self) -> Obj:
        core = self.git_version.lstrip("v").split("-")[0].split(".")
        return {
            "major": core[0] if core else "1",
            "minor": core[1] if len(core) > 1 else "0",
            "gitVersion": self.git_version,
            "gitCommit": "0000000000000000000000000000000000000000",
            "gitTreeState": "clean",
            "buildDate": "2024-01-01T00:00:00Z",
            "goVersion": "go1.21.8",
            "compiler": "gc",
            "platform": "linux/amd64",
        }


@dataclass
class ApiServer:
    """Everything a request handler needs; one per process."""

    options: Options
    store: Store
    version: VersionInfo
    health_etcd: EtcdClient
    stopping: threading.Event = field(default_factory=threading.Event)

    @property
    def server_address(self) -> str:
        host = self.options.advertise_address or "127.0.0.1"
        return f"{host}:{self.options.secure_port}"

    def etcd_ok(self) -> bool:
        try:
            self.health_etcd.revision()
        except EtcdUnavailable:
            return False
        return True


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "kube-apiserver"
    sys_version = ""
    app: ApiServer  # set on the subclass made by serve()

    # -- plumbing ----------------------------------------------------------------------

    def setup(self) -> None:
        conn = self.request
        # headers and body leave in separate writes: without NODELAY, Nagle plus the
        # client's delayed ACK add ~40 ms to every answer on a kept-alive connection
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn.settimeout(10)
        if isinstance(conn, ssl.SSLSocket):
            conn.do_handshake()
        conn.settimeout(120)
        super().setup()

    def handle(self) -> None:
        try:
            super().handle()
        except (ssl.SSLError, OSError):
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        if os.environ.get("SEALER_LAB_APISERVER_LOG_REQUESTS"):
            sys.stderr.write(f"{self.address_string()} {format % args}\n")

    def _send(self, code: int, body: bytes, content_type: str = "application/json") -> None:
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-cache, private")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, code: int, doc: Obj) -> None:
        self._send(code, json.dumps(doc).encode())

    def _error(self, err: ApiError) -> None:
        self._json(err.code, err.status())

    def _body(self) -> bytes:
        """The request body, read once (later calls get b"")."""
        if getattr(self, "_body_read", False):
            return b""
        self._body_read = True
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _json_body(self) -> Any:
        raw = self._body()
        if not raw:
            return None
        try:
            return json.loads(raw)
        except ValueError as exc:
            raise bad_request(f"the body of the request was in an unknown format: {exc}") from None

    def do_GET(self) -> None:
        self._dispatch()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_GET

    # -- authentication ----------------------------------------------------------------

    def _identity(self) -> Identity | None:
        conn = self.request
        if isinstance(conn, ssl.SSLSocket):
            cert = conn.getpeercert()
            if cert and cert.get("subject"):
                # the TLS layer checked the chain but not the dates (listen.tls_context); the
                # x509 authenticator refuses a certificate outside them: 401, even when
                # anonymous requests are allowed, as the real one does
                if not cert_in_validity(cert):
                    return None
                return identity_from_cert(cert["subject"])  # type: ignore[arg-type]
        header = self.headers.get("Authorization", "")
        if header.lower().startswith("bearer "):
            token = header[7:].strip()
            if self.app.options.enable_bootstrap_token_auth:
                who = authenticate_token(self.app.store, token)
                if who is not None:
                    return who
            return None
        if not self.app.options.anonymous_auth:
            return None
        return Identity(ANONYMOUS, ("system:unauthenticated",))

    def _impersonate(self, who: Identity) -> Identity:
        """``Impersonate-User``/``Impersonate-Group`` (kubectl --as/--as-group)."""
        user = self.headers.get("Impersonate-User")
        groups = self.headers.get_all("Impersonate-Group") or []
        if not user:
            if groups:
                raise bad_request("requested impersonation of groups without a user")
            return who
        wanted = [("users", user), *[("groups", g) for g in groups]]
        for resource, name in wanted:
            req = Request(
                verb="impersonate", path="", is_resource=True, resource=resource, name=name
            )
            if not authorize(self.app.store, who, req):
                raise ApiError(
                    403,
                    "Forbidden",
                    f'{resource} "{name}" is forbidden: User "{who.user}" cannot impersonate '
                    f'resource "{resource}" in API group "" at the cluster scope',
                    {"name": name, "kind": resource},
                )
        extra = "system:unauthenticated" if user == ANONYMOUS else "system:authenticated"
        return Identity(user, (*groups, extra))

    # -- dispatch ----------------------------------------------------------------------

    def _dispatch(self) -> None:
        url = urllib.parse.urlsplit(self.path)
        query = {
            k: v[-1] for k, v in urllib.parse.parse_qs(url.query, keep_blank_values=True).items()
        }
        path = url.path
        self._body_read = False
        try:
            self._serve_request(path, query)
        finally:
            self._body()  # an unread body would be parsed as the next request on this connection

    def _serve_request(self, path: str, query: dict[str, str]) -> None:
        try:
            who = self._identity()
            if who is None:
                self._body()
                self._json(
                    401,
                    {
                        "kind": "Status",
                        "apiVersion": "v1",
                        "metadata": {},
                        "status": "Failure",
                        "message": "Unauthorized",
                        "reason": "Unauthorized",
                        "code": 401,
                    },
                )
                return
            who = self._impersonate(who)
            routed = routing.route(path)
            if routed is None or routed[2] is None:
                self._non_resource(who, path, query, routed)
                return
            _, _, route = routed
            assert route is not None
            verb = routing.verb(self.command, route, query)
            req = Request(
                verb=verb,
                path=path,
                is_resource=True,
                group=route.res.group,
                resource=route.res.plural,
                subresource=route.subresource,
                namespace=route.namespace,
                name=route.name,
            )
            if not authorize(self.app.store, who, req):
                self._body()
                raise forbidden(route.res, route.name, forbidden_message(who, req))
            self._resource(who, verb, route, query)
        except ApiError as err:
            self._error(err)
        except EtcdUnavailable as exc:
            self._error(ApiError(500, "InternalError", f"Internal error occurred: etcd: {exc}"))
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception as exc:  # the server boundary: a bug answers 500, never a dropped line
            traceback.print_exc(file=sys.stderr)
            self.close_connection = True
            self._error(ApiError(500, "InternalError", f"Internal error occurred: {exc!r}"))

    def _non_resource(
        self,
        who: Identity,
        path: str,
        query: dict[str, str],
        routed: tuple[str, str, Route | None] | None,
    ) -> None:
        req = Request(verb=self.command.lower() if self.command != "HEAD" else "get", path=path)
        if not authorize(self.app.store, who, req):
            raise ApiError(403, "Forbidden", forbidden_message(who, req), {})
        clean = path.rstrip("/") or "/"
        for check in ("/healthz", "/livez", "/readyz"):
            if clean == check or clean.startswith(check + "/"):
                self._health(check, clean[len(check) + 1 :], "verbose" in query)
                return
        if clean == "/version":
            self._json(200, self.app.version.document())
            return
        if clean in {"/api", "/apis"}:
            wanted = discovery.negotiate_aggregated(
                self.headers.get("Accept", ""), self.app.version.minor
            )
            if wanted:
                listing = discovery.aggregated_discovery(clean == "/api", wanted)
                kind = f"application/json;g=apidiscovery.k8s.io;v={wanted};as=APIGroupDiscoveryList"
                self._send(200, json.dumps(listing).encode(), kind)
            elif clean == "/api":
                self._json(200, discovery.api_versions(self.app.server_address))
            else:
                self._json(200, discovery.api_group_list())
            return
        parts = [p for p in clean.split("/") if p]
        doc: Obj | None = None
        if parts[:2] == ["openapi", "v3"]:
            if len(parts) == 2:
                doc = openapi.openapi_v3_index()
            elif parts[2] == "api" and len(parts) == 4:
                doc = openapi.openapi_v3_document("", parts[3])
            elif parts[2] == "apis" and len(parts) == 5:
                doc = openapi.openapi_v3_document(parts[3], parts[4])
            if doc is None:
                raise ApiError(404, "NotFound", "the server could not find the requested resource")
            self._json(200, doc)
            return
        if routed is not None:
            doc = discovery.api_resource_list(routed[0], routed[1])
        elif len(parts) == 2 and parts[0] == "apis":
            doc = discovery.api_group(parts[1])
        if doc is None:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        self._json(200, doc)

    def _health(self, kind: str, only: str, verbose: bool) -> None:
        checks = [c for c in _HEALTH_CHECKS if not (kind == "/livez" and c == "etcd")]
        if kind == "/readyz":
            checks.append("shutdown")
        results: dict[str, bool] = {}
        for check in checks:
            if only and check != only:
                continue
            if check == "etcd":
                results[check] = self.app.etcd_ok()
            elif check == "shutdown":
                results[check] = not self.app.stopping.is_set()
            else:
                results[check] = True
        if only and not results:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        healthy = all(results.values())
        name = kind.lstrip("/")
        if healthy and not verbose:
            self._send(200, b"ok", "text/plain; charset=utf-8")
            return
        lines = [
            f"[+]{c} ok" if ok else f"[-]{c} failed: reason withheld" for c, ok in results.items()
        ]
        lines.append(f"{name} check passed" if healthy else f"{name} check failed")
        self._send(
            200 if healthy else 500, ("\n".join(lines) + "\n").encode(), "text/plain; charset=utf-8"
        )

    # -- resources ---------------------------------------------------------------------

    def _view(self, res: Resource, objs: list[Obj]) -> list[Obj]:
        """Apply read-time controllers (node lifecycle) to objects about to be returned."""
        if res.plural != "nodes" or not objs:
            return objs
        leases_res = find_resource("coordination.k8s.io", "v1", "leases")
        assert leases_res is not None
        leases, _ = self.app.store.list(leases_res, "kube-node-lease")
        by_name = {lease["metadata"]["name"]: lease for lease in leases}
        now = datetime.datetime.now(datetime.UTC)
        return [apply_node_lifecycle(o, by_name.get(o["metadata"]["name"]), now) for o in objs]

    def _render_one(self, res: Resource, obj: Obj, query: dict[str, str], code: int = 200) -> None:
        accept = self.headers.get("Accept", "")
        if "as=Table" in accept:
            rv = obj["metadata"].get("resourceVersion", "")
            now = datetime.datetime.now(datetime.UTC)
            self._json(code, to_table(res, [obj], rv, query.get("includeObject", ""), now))
            return
        if "as=PartialObjectMetadata" in accept:
            self._json(
                code,
                {
                    "kind": "PartialObjectMetadata",
                    "apiVersion": "meta.k8s.io/v1",
                    "metadata": obj["metadata"],
                },
            )
            return
        self._json(code, obj)

    def _resource(self, who: Identity, verb: str, route: Route, query: dict[str, str]) -> None:
        res, store = route.res, self.app.store
        dry_run = "dryRun" in query
        if not res.stored:
            if verb != "create" or route.name:
                raise ApiError(
                    405,
                    "MethodNotAllowed",
                    "the server does not allow this method on the requested resource",
                )
            body = self._json_body()
            if not isinstance(body, dict):
                raise bad_request("the body of the request was empty or not an object")
            self._json(201, review(self.app.store, who, res, body))
            return
        if verb == "get":
            if route.subresource == "log":
                self._send(200, b"", "text/plain")
                return
            obj = self._view(res, [store.get(res, route.namespace, route.name)])[0]
            self._render_one(res, obj, query)
            return
        if verb in {"list", "watch"}:
            self._list_or_watch(res, route.namespace, query, verb == "watch")
            return
        if verb == "create":
            body = self._json_body()
            if not isinstance(body, dict):
                raise bad_request("the body of the request was empty or not an object")
            if route.subresource == "eviction":
                self._evict(route, body)
                return
            check_kind(res, body)
            if route.name:
                raise ApiError(
                    405,
                    "MethodNotAllowed",
                    "the server does not allow this method on the requested resource",
                )
            self._admit(who, res, body)
            if res.plural == "certificatesigningrequests":
                spec = body.setdefault("spec", {})
                spec["username"] = who.user
                spec["groups"] = list(who.groups)
            obj = body if dry_run else store.create(res, route.namespace, string_data(res, body))
            self._render_one(res, obj, query, 201)
            return
        if verb in {"update", "patch"}:
            self._update_or_patch(who, verb, route, query)
            return
        if verb == "delete":
            self._delete(who, route, query)
            return
        if verb == "deletecollection":
            self._body()
            items, rv = store.list(res, route.namespace or None)
            items = self._filter(items, query)
            if not dry_run:
                for item in items:
                    meta = item["metadata"]
                    store.delete(res, meta.get("namespace", ""), meta["name"])
            self._json(200, list_doc(res, items, str(rv)))
            return
        raise ApiError(405, "MethodNotAllowed", f"{verb} is not supported")

    def _admit(self, who: Identity, res: Resource, obj: Obj) -> None:
        """NodeRestriction: a node may only create/change pods bound to itself and its own Node."""
        if not who.is_node:
            return
        if res.plural == "pods" and obj.get("spec", {}).get("nodeName") != who.node_name:
            raise forbidden(
                res,
                obj.get("metadata", {}).get("name", ""),
                f'node "{who.node_name}" can only create mirror pods bound to itself',
            )
        if res.plural == "nodes" and obj.get("metadata", {}).get("name") != who.node_name:
            name = obj.get("metadata", {}).get("name", "")
            raise forbidden(
                res, name, f'node "{who.node_name}" is not allowed to modify node "{name}"'
            )

    def _filter(self, items: list[Obj], query: dict[str, str]) -> list[Obj]:
        labels = label_selector(query.get("labelSelector", ""))
        fields = field_selector(query.get("fieldSelector", ""))
        return [i for i in items if labels(i) and fields(i)]

    def _list_or_watch(
        self, res: Resource, namespace: str, query: dict[str, str], watch: bool
    ) -> None:
        store = self.app.store
        items, rv = store.list(res, namespace or None)
        items = self._view(res, self._filter(items, query))
        if not watch:
            accept = self.headers.get("Accept", "")
            if "as=Table" in accept:
                now = datetime.datetime.now(datetime.UTC)
                self._json(200, to_table(res, items, str(rv), query.get("includeObject", ""), now))
            elif "as=PartialObjectMetadataList" in accept:
                self._json(
                    200,
                    {
                        "kind": "PartialObjectMetadataList",
                        "apiVersion": "meta.k8s.io/v1",
                        "metadata": {"resourceVersion": str(rv)},
                        "items": [
                            {
                                "kind": "PartialObjectMetadata",
                                "apiVersion": "meta.k8s.io/v1",
                                "metadata": i["metadata"],
                            }
                            for i in items
                        ],
                    },
                )
            else:
                self._json(200, list_doc(res, items, str(rv)))
            return
        self._watch(res, namespace, query, items)

    def _watch(
        self, res: Resource, namespace: str, query: dict[str, str], items: list[Obj]
    ) -> None:
        """A polling watch: snapshots every half second, differences sent as watch events.

        From a given resourceVersion the first snapshot is etcd's state at that revision, so
        changes made between the client's list and its watch are sent too; a compacted
        revision answers the ERROR event 410 Expired like the real one.
        """
        start_rv = query.get("resourceVersion", "")
        expired: Obj | None = None
        if start_rv not in {"", "0"}:
            try:
                revision = int(start_rv)
            except ValueError:
                raise bad_request(f'invalid resource version "{start_rv}"') from None
            try:
                then, _ = self.app.store.list(res, namespace or None, revision)
                items = self._view(res, self._filter(then, query))
            except EtcdUnavailable as exc:
                if "compacted" not in str(exc):
                    raise
                latest = self.app.store.etcd.revision()
                expired = ApiError(
                    410, "Expired", f"too old resource version: {start_rv} ({latest})"
                ).status()
        timeout = float(query.get("timeoutSeconds") or 1800)
        deadline = time.monotonic() + timeout
        as_table = "as=Table" in self.headers.get("Accept", "")
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Cache-Control", "no-cache, private")
        self.end_headers()
        self.request.settimeout(None)

        def key(o: Obj) -> str:
            return f"{o['metadata'].get('namespace', '')}/{o['metadata']['name']}"

        def send(kind: str, obj: Obj) -> None:
            if as_table:
                now = datetime.datetime.now(datetime.UTC)
                obj = to_table(
                    res,
                    [obj],
                    obj["metadata"].get("resourceVersion", ""),
                    query.get("includeObject", ""),
                    now,
                )
            data = json.dumps({"type": kind, "object": obj}).encode() + b"\n"
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            self.wfile.flush()

        if expired is not None:
            send("ERROR", expired)
            deadline = 0.0
        known = {key(o): o for o in items}
        if start_rv in {"", "0"}:
            for obj in items:
                send("ADDED", obj)
        while time.monotonic() < deadline and not self.app.stopping.is_set():
            time.sleep(_WATCH_POLL_SECONDS)
            try:
                current, _ = self.app.store.list(res, namespace or None)
            except EtcdUnavailable:
                break
            current = self._view(res, self._filter(current, query))
            now_map = {key(o): o for o in current}
            for k, obj in now_map.items():
                old = known.get(k)
                if old is None:
                    send("ADDED", obj)
                elif old["metadata"].get("resourceVersion") != obj["metadata"].get(
                    "resourceVersion"
                ):
                    send("MODIFIED", obj)
            for k, obj in known.items():
                if k not in now_map:
                    send("DELETED", obj)
            known = now_map
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()
        self.close_connection = True

    def _update_or_patch(
        self, who: Identity, verb: str, route: Route, query: dict[str, str]
    ) -> None:
        res, store = route.res, self.app.store
        content_type = self.headers.get("Content-Type", "")
        if verb == "patch" and content_type.startswith("application/apply-patch"):
            self._server_side_apply(who, route, query, apply_body(self._body()))
            return
        body = self._json_body()
        if body is None:
            raise bad_request("the body of the request was empty")
        for _ in range(8):
            current = store.get(res, route.namespace, route.name)
            if verb == "patch":
                try:
                    new = apply_patch(self.headers.get("Content-Type", ""), current, body)
                except PatchError as exc:
                    raise invalid(res, route.name, str(exc)) from None
                if not isinstance(new, dict):
                    raise bad_request("the patch did not produce an object")
                # the patched object keeps the resourceVersion read above: the write is a
                # compare-and-swap against it, retried below when someone wrote in between
            else:
                if not isinstance(body, dict):
                    raise bad_request("the body of the request was not an object")
                check_kind(res, body)
                new = body
            self._admit(
                who, res, {**new, "metadata": {**new.get("metadata", {}), "name": route.name}}
            )
            if (
                who.is_node
                and res.plural == "pods"
                and current.get("spec", {}).get("nodeName") != who.node_name
            ):
                raise forbidden(
                    res, route.name, f'node "{who.node_name}" can only update pods bound to itself'
                )
            if "dryRun" in query:
                self._render_one(res, new, query)
                return
            try:
                obj = store.update(
                    res, route.namespace, route.name, string_data(res, new), route.subresource
                )
            except ApiError as err:
                if err.code == 409 and verb == "patch" and not sends_rv(body):
                    continue  # a patch retries on conflict like the real one
                raise
            if res.plural == "nodes":
                obj = self._view(res, [obj])[0]
            self._render_one(res, obj, query)
            return
        raise ApiError(409, "Conflict", "too many conflicts applying the patch")

    def _server_side_apply(
        self, who: Identity, route: Route, query: dict[str, str], body: Obj
    ) -> None:
        """Server-side apply, simplified: create when absent, else a strategic merge (doc)."""
        res, store = route.res, self.app.store
        body.setdefault("metadata", {})["name"] = route.name
        self._admit(who, res, body)
        try:
            current = store.get(res, route.namespace, route.name)
        except ApiError as err:
            if err.code != 404:
                raise
            if "dryRun" in query:
                self._render_one(res, body, query, 201)
                return
            created = store.create(res, route.namespace, string_data(res, body))
            self._render_one(res, created, query, 201)
            return
        body["metadata"].pop("resourceVersion", None)
        new = apply_patch("application/strategic-merge-patch+json", current, body)
        if "dryRun" in query:
            self._render_one(res, new, query)
            return
        obj = store.update(res, route.namespace, route.name, string_data(res, new))
        self._render_one(res, self._view(res, [obj])[0] if res.plural == "nodes" else obj, query)

    def _delete(self, who: Identity, route: Route, query: dict[str, str]) -> None:
        res, store = route.res, self.app.store
        body = self._json_body() or {}
        pre = body.get("preconditions") or {} if isinstance(body, dict) else {}
        if who.is_node:
            current = store.get(res, route.namespace, route.name)
            if res.plural == "pods" and current.get("spec", {}).get("nodeName") != who.node_name:
                raise forbidden(
                    res, route.name, f'node "{who.node_name}" can only delete pods bound to itself'
                )
        if "dryRun" in query or (isinstance(body, dict) and body.get("dryRun")):
            self._json(200, store.get(res, route.namespace, route.name))
            return
        obj = store.delete(
            res,
            route.namespace,
            route.name,
            str(pre.get("uid") or ""),
            str(pre.get("resourceVersion") or ""),
        )
        self._json(200, obj)

    def _evict(self, route: Route, body: Obj) -> None:
        """policy/v1 Eviction: the pod is deleted at once (no kubelet to terminate it)."""
        pods = route.res
        options = body.get("deleteOptions") or {}
        pre = options.get("preconditions") or {}
        if body.get("metadata", {}).get("name") not in {None, route.name}:
            raise bad_request("name in URL does not match name in Eviction object")
        if options.get("dryRun"):
            self.app.store.get(pods, route.namespace, route.name)
        else:
            self.app.store.delete(
                pods,
                route.namespace,
                route.name,
                str(pre.get("uid") or ""),
                str(pre.get("resourceVersion") or ""),
            )
        self._json(
            201,
            {
                "kind": "Status",
                "apiVersion": "v1",
                "metadata": {},
                "status": "Success",
                "code": 201,
            },
        )


def serve(app: ApiServer, ctx: ssl.SSLContext, on_ready: Callable[[], None] | None = None) -> None:
    """Serve until ``app.stopping`` is set; OSError when the address cannot be bound."""
    handler = type("BoundHandler", (Handler,), {"app": app})
    bind = app.options.bind_address
    server = make_server(bind, app.options.secure_port, handler, ctx)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True
    )
    thread.start()
    if on_ready is not None:
        on_ready()
    try:
        app.stopping.wait()
    finally:
        server.shutdown()
        server.server_close()
