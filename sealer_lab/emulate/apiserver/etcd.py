"""A small etcd v3 client over etcd's JSON gRPC gateway (``POST /v3/kv/...``, etcd >= 3.4).

Keys and values travel base64-encoded; 64-bit integers come back as decimal strings. One
HTTPS connection per thread and server is kept open; on failure the next server is tried.
"""

from __future__ import annotations

import base64
import http.client
import json
import ssl
import threading
import time
import urllib.parse
from dataclasses import dataclass
from typing import Any

__all__ = ["EtcdClient", "EtcdUnavailable", "KeyValue", "prefix_end"]


#: Gateway paths of read-only calls (etcd's client retries those when etcd is unavailable).
SAFE_PATHS = frozenset({"/v3/kv/range"})
#: What an unavailable etcd answers: a leader election, a request that timed out.
UNAVAILABLE = ("leader changed", "no leader", "timed out", "HTTP 503")
READ_RETRY_SECONDS = 15.0


class EtcdUnavailable(Exception):
    """No etcd server answered."""


@dataclass(frozen=True)
class KeyValue:
    key: str
    value: bytes
    create_revision: int
    mod_revision: int


def _b64(text: str | bytes) -> str:
    raw = text.encode() if isinstance(text, str) else text
    return base64.b64encode(raw).decode()


def prefix_end(prefix: str) -> str:
    """The range end covering every key that starts with ``prefix`` (etcd's GetPrefixRangeEnd)."""
    raw = bytearray(prefix.encode())
    for i in range(len(raw) - 1, -1, -1):
        if raw[i] < 0xFF:
            raw[i] += 1
            return bytes(raw[: i + 1]).decode("latin-1")
    return "\0"


def _kv(item: dict[str, Any]) -> KeyValue:
    return KeyValue(
        key=base64.b64decode(item["key"]).decode(),
        value=base64.b64decode(item.get("value", "")),
        create_revision=int(item.get("create_revision", 0)),
        mod_revision=int(item.get("mod_revision", 0)),
    )


class EtcdClient:
    """Talks to the first etcd endpoint that answers."""

    def __init__(
        self,
        servers: tuple[str, ...],
        cafile: str,
        certfile: str,
        keyfile: str,
        timeout: float = 5.0,
    ) -> None:
        self._servers = [urllib.parse.urlsplit(s) for s in servers]
        self._timeout = timeout
        self._ctx: ssl.SSLContext | None = None
        if any(s.scheme == "https" for s in self._servers):
            ctx = ssl.create_default_context(cafile=cafile or None)
            if certfile:
                ctx.load_cert_chain(certfile, keyfile or None)
            ctx.check_hostname = False  # etcd serving certs name the host, we dial by address
            self._ctx = ctx
        self._local = threading.local()

    def _conn(self, index: int) -> http.client.HTTPConnection:
        conns: dict[int, http.client.HTTPConnection] = getattr(self._local, "conns", {})
        self._local.conns = conns
        conn = conns.get(index)
        if conn is None:
            url = self._servers[index]
            host = url.hostname or "127.0.0.1"
            port = url.port or 2379
            if url.scheme == "https":
                conn = http.client.HTTPSConnection(
                    host, port, timeout=self._timeout, context=self._ctx
                )
            else:
                conn = http.client.HTTPConnection(host, port, timeout=self._timeout)
            conns[index] = conn
        return conn

    def _drop(self, index: int) -> None:
        conns: dict[int, http.client.HTTPConnection] = getattr(self._local, "conns", {})
        conn = conns.pop(index, None)
        if conn is not None:
            conn.close()

    def call(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST one gateway request; the first server that answers wins. A read is asked
        again while etcd answers "unavailable" (a leader election, a slow moment), as etcd's
        Go client retries its safe (read-only) calls for the kube-apiserver; a write is not."""
        deadline = time.monotonic() + READ_RETRY_SECONDS
        while True:
            try:
                return self._call_once(path, body)
            except EtcdUnavailable as exc:
                transient = any(marker in str(exc) for marker in UNAVAILABLE)
                if path not in SAFE_PATHS or not transient or time.monotonic() > deadline:
                    raise
            time.sleep(0.2)

    def _call_once(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        payload = json.dumps(body).encode()
        last = "no etcd servers configured"
        start = getattr(self._local, "preferred", 0)
        for step in range(len(self._servers)):
            index = (start + step) % len(self._servers)
            for attempt in range(2):  # a kept-alive connection may have been closed by etcd
                conn = self._conn(index)
                try:
                    conn.request(
                        "POST", path, body=payload, headers={"Content-Type": "application/json"}
                    )
                    resp = conn.getresponse()
                    data = resp.read()
                except (OSError, http.client.HTTPException) as exc:
                    self._drop(index)
                    last = f"{self._servers[index].geturl()}: {exc}"
                    if attempt == 0 and isinstance(
                        exc, http.client.RemoteDisconnected | BrokenPipeError
                    ):
                        continue
                    break
                if resp.status != 200:
                    last = f"{self._servers[index].geturl()}: HTTP {resp.status}: {data[:200]!r}"
                    break
                self._local.preferred = index
                result: dict[str, Any] = json.loads(data)
                return result
        raise EtcdUnavailable(last)

    def get(self, key: str) -> KeyValue | None:
        result = self.call("/v3/kv/range", {"key": _b64(key)})
        kvs = result.get("kvs", [])
        return _kv(kvs[0]) if kvs else None

    def list_prefix(self, prefix: str, revision: int = 0) -> tuple[list[KeyValue], int]:
        """Every key under ``prefix`` (as of ``revision`` when given, from etcd's history) and
        the store revision the read was served at."""
        body: dict[str, Any] = {
            "key": _b64(prefix),
            "range_end": _b64(prefix_end(prefix).encode("latin-1")),
        }
        if revision:
            body["revision"] = str(revision)
        result = self.call("/v3/kv/range", body)
        revision = int(result.get("header", {}).get("revision", 0))
        return [_kv(item) for item in result.get("kvs", [])], revision

    def revision(self) -> int:
        result = self.call("/v3/kv/range", {"key": _b64("\0"), "limit": 1, "keys_only": True})
        return int(result.get("header", {}).get("revision", 0))

    def compact(self, revision: int) -> None:
        """Drop history before ``revision``; an already compacted revision is not an error."""
        try:
            self.call("/v3/kv/compaction", {"revision": str(revision)})
        except EtcdUnavailable as exc:
            if "compacted" not in str(exc):
                raise

    def put_with_ttl(self, key: str, value: bytes, ttl: int) -> int:
        """Put ``key`` attached to a fresh etcd lease of ``ttl`` seconds (it vanishes after)."""
        lease = self.call("/v3/lease/grant", {"TTL": str(ttl)})
        result = self.call(
            "/v3/kv/put", {"key": _b64(key), "value": _b64(value), "lease": str(lease["ID"])}
        )
        return int(result.get("header", {}).get("revision", 0))

    def create(self, key: str, value: bytes) -> int | None:
        """Put ``key`` only if absent; the new mod revision, or None when it already exists."""
        return self._txn_put(
            key, value, {"key": _b64(key), "target": "CREATE", "create_revision": "0"}
        )

    def update(self, key: str, value: bytes, mod_revision: int) -> int | None:
        """Put ``key`` only if unchanged since ``mod_revision``; None on conflict."""
        return self._txn_put(
            key,
            value,
            {"key": _b64(key), "target": "MOD", "mod_revision": str(mod_revision)},
        )

    def _txn_put(self, key: str, value: bytes, compare: dict[str, str]) -> int | None:
        compare["result"] = "EQUAL"
        result = self.call(
            "/v3/kv/txn",
            {
                "compare": [compare],
                "success": [{"request_put": {"key": _b64(key), "value": _b64(value)}}],
            },
        )
        if not result.get("succeeded"):
            return None
        return int(result.get("header", {}).get("revision", 0))

    def delete(self, key: str, mod_revision: int) -> int | None:
        """Delete ``key`` if unchanged since ``mod_revision``; the revision, or None on conflict."""
        result = self.call(
            "/v3/kv/txn",
            {
                "compare": [
                    {
                        "key": _b64(key),
                        "target": "MOD",
                        "result": "EQUAL",
                        "mod_revision": str(mod_revision),
                    }
                ],
                "success": [{"request_delete_range": {"key": _b64(key)}}],
            },
        )
        if not result.get("succeeded"):
            return None
        return int(result.get("header", {}).get("revision", 0))
