"""The emulated container runtime's API: what the kubelet and ``crictl`` ask containerd.

The real CRI is gRPC over a unix socket; the emulation keeps the socket (its path, the errors a
client meets when nothing answers there) and replaces gRPC by one JSON line each way:
``{"method": "Version"}`` or ``{"method": "Status"}`` in, the response object out (the CRI's
``VersionResponse`` / ``StatusResponse`` fields, in crictl's JSON spelling).

A client that cannot reach the socket gets :class:`CriUnavailable` carrying the words of the
real client library (k8s.io/cri-client, grpc-go): ``validate service connection: validate CRI
v1 runtime API for endpoint "unix:///run/containerd/containerd.sock": rpc error: code =
Unavailable desc = connection error: desc = "transport: Error while dialing: dial unix
/run/containerd/containerd.sock: connect: no such file or directory"``.
"""

from __future__ import annotations

import json
import socket
from typing import Any

__all__ = [
    "DEFAULT_ENDPOINT",
    "CriUnavailable",
    "call",
    "socket_path",
    "status",
    "validate",
]

#: The kubelet's default ``--container-runtime-endpoint`` (and kubeadm's criSocket for
#: containerd).
DEFAULT_ENDPOINT = "unix:///run/containerd/containerd.sock"
TIMEOUT = 2.0


class CriUnavailable(Exception):
    """The runtime did not answer on its endpoint; ``str()`` is the real client's error."""


def socket_path(endpoint: str) -> str:
    """``unix:///run/x.sock`` -> ``/run/x.sock`` (a bare path is taken as it is)."""
    return endpoint[len("unix://") :] if endpoint.startswith("unix://") else endpoint


def _dial_error(path: str, exc: OSError) -> str:
    if isinstance(exc, FileNotFoundError):
        reason = "connect: no such file or directory"
    elif isinstance(exc, ConnectionRefusedError):
        reason = "connect: connection refused"
    elif isinstance(exc, PermissionError):
        reason = "connect: permission denied"
    elif isinstance(exc, TimeoutError | socket.timeout):
        reason = "i/o timeout"
    else:
        reason = f"connect: {(exc.strerror or str(exc)).lower()}"
    return (
        "rpc error: code = Unavailable desc = connection error: desc = "
        f'"transport: Error while dialing: dial unix {path}: {reason}"'
    )


def call(endpoint: str, method: str, timeout: float = TIMEOUT) -> dict[str, Any]:
    """One request to the runtime; :class:`CriUnavailable` (a gRPC-shaped message without the
    ``validate ...`` prefix) when the socket does not answer."""
    path = socket_path(endpoint)
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(path)
            sock.sendall(json.dumps({"method": method}).encode() + b"\n")
            data = b""
            while not data.endswith(b"\n"):
                chunk = sock.recv(65536)
                if not chunk:
                    break
                data += chunk
    except OSError as exc:
        raise CriUnavailable(_dial_error(path, exc)) from None
    try:
        answer: dict[str, Any] = json.loads(data)
    except ValueError:
        raise CriUnavailable(
            "rpc error: code = Unavailable desc = error reading from server: EOF"
        ) from None
    if "error" in answer:
        raise CriUnavailable(str(answer["error"]))
    return answer


def validate(endpoint: str) -> dict[str, Any]:
    """What the CRI client does when it connects: ask ``Version``, with the client's error
    (``validate service connection: validate CRI v1 runtime API for endpoint ...``)."""
    try:
        return call(endpoint, "Version")
    except CriUnavailable as exc:
        raise CriUnavailable(
            f"validate service connection: validate CRI v1 runtime API for endpoint "
            f"{json.dumps(endpoint)}: {exc}"
        ) from None


def status(endpoint: str) -> dict[str, Any]:
    """The runtime's ``Status`` (``{"status": {"conditions": [...]}, ...}``)."""
    validate(endpoint)
    return call(endpoint, "Status")
