"""Detached JWS (HS256) over cluster-info's kubeconfig, as the bootstrap signer computes it."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

__all__ = ["detached_signature", "verify"]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def detached_signature(content: str, token_id: str, token_secret: str) -> str:
    header = _b64(json.dumps({"alg": "HS256", "kid": token_id}, separators=(",", ":")).encode())
    payload = _b64(content.encode())
    sig = hmac.new(token_secret.encode(), f"{header}.{payload}".encode(), hashlib.sha256)
    return f"{header}..{_b64(sig.digest())}"


def verify(content: str, signature: str, token_id: str, token_secret: str) -> bool:
    """Check a detached JWS: header says HS256 and kid; HMAC over header.payload matches."""
    try:
        header_b64, empty, sig_b64 = signature.split(".")
        header = json.loads(base64.urlsafe_b64decode(header_b64 + "=" * (-len(header_b64) % 4)))
        sig = base64.urlsafe_b64decode(sig_b64 + "=" * (-len(sig_b64) % 4))
    except (ValueError, TypeError):
        return False
    if empty or header.get("alg") != "HS256" or header.get("kid", token_id) != token_id:
        return False
    mac = hmac.new(
        token_secret.encode(), f"{header_b64}.{_b64(content.encode())}".encode(), hashlib.sha256
    )
    return hmac.compare_digest(mac.digest(), sig)
