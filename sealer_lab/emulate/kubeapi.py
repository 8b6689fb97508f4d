"""A small Kubernetes REST client (standard library only) for the emulated programs."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import ssl
import tempfile
import urllib.parse
from dataclasses import dataclass
from typing import Any

from sealer_lab.emulate.kubeconfig import Kubeconfig

__all__ = ["ApiError", "Client"]


class ApiError(Exception):
    """An HTTP answer >= 400 (status and the Status message), or a transport failure (status 0)."""

    def __init__(self, status: int, message: str, url: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.url = url


@dataclass(frozen=True)
class Client:
    """Talks to one API server with a kubeconfig's credentials (or anonymously, insecure)."""

    server: str
    ca_pem: bytes = b""
    cert_pem: bytes = b""
    key_pem: bytes = b""
    token: str = ""
    insecure: bool = False
    timeout: float = 10.0

    @classmethod
    def from_kubeconfig(cls, cfg: Kubeconfig, timeout: float = 10.0) -> Client:
        return cls(
            server=cfg.server,
            ca_pem=cfg.ca_pem,
            cert_pem=cfg.cert_pem,
            key_pem=cfg.key_pem,
            token=cfg.token,
            timeout=timeout,
        )

    def _context(self) -> ssl.SSLContext:
        if self.insecure or not self.ca_pem:
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        else:
            ctx = ssl.create_default_context(cadata=self.ca_pem.decode())
        if self.cert_pem and self.key_pem:
            with tempfile.TemporaryDirectory(prefix="kubeapi-") as tmp:
                cert = os.path.join(tmp, "c.pem")
                fd = os.open(cert, os.O_WRONLY | os.O_CREAT, 0o600)
                with os.fdopen(fd, "wb") as fh:
                    fh.write(self.cert_pem + b"\n" + self.key_pem)
                ctx.load_cert_chain(cert)
        return ctx

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        content_type: str = "application/json",
        query: dict[str, str] | None = None,
    ) -> Any:
        url = urllib.parse.urlsplit(self.server)
        host = url.hostname or "127.0.0.1"
        port = url.port or 443
        full = path + ("?" + urllib.parse.urlencode(query) if query else "")
        conn = http.client.HTTPSConnection(
            host, port, context=self._context(), timeout=self.timeout
        )
        headers = {"Accept": "application/json", "User-Agent": "sealer-lab-emulate"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = content_type
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        try:
            conn.request(method, full, body=data, headers=headers)
            resp = conn.getresponse()
            raw = resp.read()
        except (OSError, ssl.SSLError, http.client.HTTPException) as exc:
            raise ApiError(0, _dial_message(host, port, exc), self.server + full) from exc
        finally:
            conn.close()
        if resp.status >= 400:
            message = raw.decode(errors="replace")
            with contextlib.suppress(ValueError, AttributeError):
                message = str(json.loads(raw).get("message", message))
            raise ApiError(resp.status, message, self.server + full)
        if not raw:
            return None
        try:
            return json.loads(raw)
        except ValueError:
            return raw.decode(errors="replace")

    def get(self, path: str, query: dict[str, str] | None = None) -> Any:
        return self.request("GET", path, query=query)

    def create(self, path: str, obj: dict[str, Any]) -> Any:
        return self.request("POST", path, obj)

    def put(self, path: str, obj: dict[str, Any]) -> Any:
        return self.request("PUT", path, obj)

    def delete(self, path: str) -> Any:
        return self.request("DELETE", path)

    def merge_patch(self, path: str, patch: dict[str, Any]) -> Any:
        return self.request("PATCH", path, patch, content_type="application/merge-patch+json")

    def apply(self, collection: str, obj: dict[str, Any]) -> Any:
        """Create, or replace when it exists (kubeadm's CreateOrUpdate)."""
        try:
            return self.create(collection, obj)
        except ApiError as exc:
            if exc.status != 409:
                raise
        name = obj["metadata"]["name"]
        current = self.get(f"{collection}/{name}")
        obj = dict(obj)
        meta = dict(obj["metadata"])
        meta["resourceVersion"] = current.get("metadata", {}).get("resourceVersion", "")
        obj["metadata"] = meta
        return self.put(f"{collection}/{name}", obj)


def _dial_message(host: str, port: int, exc: BaseException) -> str:
    if isinstance(exc, ConnectionRefusedError):
        return f"dial tcp {host}:{port}: connect: connection refused"
    if isinstance(exc, TimeoutError):
        return f"dial tcp {host}:{port}: i/o timeout"
    if isinstance(exc, OSError) and exc.errno == 113:
        return f"dial tcp {host}:{port}: connect: no route to host"
    if isinstance(exc, OSError) and exc.errno == 101:
        return f"dial tcp {host}:{port}: connect: network is unreachable"
    return f"dial tcp {host}:{port}: {exc}"
