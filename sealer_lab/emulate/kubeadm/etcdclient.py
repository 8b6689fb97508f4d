"""etcd's cluster API over its JSON gateway (``/v3/cluster/member/*``), with client certs."""

from __future__ import annotations

import http.client
import json
import ssl
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["EtcdClient", "EtcdError", "Member"]


class EtcdError(Exception):
    pass


@dataclass(frozen=True)
class Member:
    id: str
    name: str
    peer_urls: tuple[str, ...]
    client_urls: tuple[str, ...]


@dataclass(frozen=True)
class EtcdClient:
    endpoints: tuple[str, ...]
    ca: Path
    cert: Path
    key: Path
    timeout: float = 10.0

    def _call(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        ctx = ssl.create_default_context(cafile=str(self.ca))
        ctx.load_cert_chain(str(self.cert), str(self.key))
        errors = []
        for ep in self.endpoints:
            url = urllib.parse.urlsplit(ep)
            conn = http.client.HTTPSConnection(
                url.hostname or "127.0.0.1", url.port or 2379, context=ctx, timeout=self.timeout
            )
            try:
                conn.request(
                    "POST",
                    path,
                    body=json.dumps(body),
                    headers={"Content-Type": "application/json"},
                )
                resp = conn.getresponse()
                raw = resp.read()
            except (OSError, ssl.SSLError, http.client.HTTPException) as exc:
                errors.append(f"{ep}: {exc}")
                continue
            finally:
                conn.close()
            data: dict[str, Any] = json.loads(raw or b"{}")
            if resp.status >= 400:
                raise EtcdError(str(data.get("error") or data.get("message") or raw.decode()))
            return data
        raise EtcdError("context deadline exceeded: " + "; ".join(errors))

    def members(self) -> list[Member]:
        data = self._call("/v3/cluster/member/list", {})
        return [_member(m) for m in data.get("members", [])]

    def add(self, peer_url: str) -> list[Member]:
        data = self._call("/v3/cluster/member/add", {"peerURLs": [peer_url]})
        return [_member(m) for m in data.get("members", [])]

    def remove(self, member_id: str) -> None:
        self._call("/v3/cluster/member/remove", {"ID": member_id})


def _member(m: dict[str, Any]) -> Member:
    return Member(
        id=str(m.get("ID", "")),
        name=str(m.get("name", "")),
        peer_urls=tuple(m.get("peerURLs", [])),
        client_urls=tuple(m.get("clientURLs", [])),
    )
