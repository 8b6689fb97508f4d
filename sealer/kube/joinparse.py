"""Parse what kubeadm prints when asked for join credentials (pure functions).

``kubeadm token create --print-join-command`` prints (stdout, one line, a trailing space)::

    kubeadm join apiserver.cluster.local:6443 --token abcdef.0123456789abcdef --discovery-token-ca-cert-hash sha256:2c4b...e1f0

``kubeadm init phase upload-certs --upload-certs`` prints::

    I0104 17:58:27.167244   11086 version.go:260] remote version is much newer: v1.35.0; ...
    [upload-certs] Storing the certificates in Secret "kubeadm-certs" in the "kube-system" Namespace
    [upload-certs] Using certificate key:
    73171e59d018d2621c456910ae8f860b333bda07b84cec72d79877250444ce3a

Both outputs hold secrets: errors describe what is missing and never quote the output.
"""  # noqa: E501

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field

from sealer.errors import KubeError

__all__ = ["JoinCommand", "parse_certificate_key", "parse_join_command"]

_TOKEN = re.compile(r"^[a-z0-9]{6}\.[a-z0-9]{16}$")
_HASH = re.compile(r"^sha256:[0-9a-f]{64}$")
_CERT_KEY = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class JoinCommand:
    """The parts of a ``kubeadm join`` line (the token and key stay out of ``repr``)."""

    api_server_endpoint: str
    token: str = field(repr=False)
    ca_cert_hashes: tuple[str, ...]
    control_plane: bool = False
    certificate_key: str | None = field(default=None, repr=False)


def _join_line(output: str) -> str | None:
    lines = output.splitlines()
    for index, line in enumerate(lines):
        if line.strip().startswith("kubeadm join"):
            parts = [line.strip()]
            while parts[-1].endswith("\\") and index + 1 < len(lines):
                parts[-1] = parts[-1][:-1]
                index += 1
                parts.append(lines[index].strip())
            return " ".join(parts)
    return None


def parse_join_command(output: str, what: str = "kubeadm token create") -> JoinCommand:
    """The ``kubeadm join`` command in ``output`` (also accepts ``kubeadm init``'s output)."""
    line = _join_line(output)
    if line is None:
        raise KubeError(
            f"`{what}` printed no `kubeadm join` line ({len(output.splitlines())} lines)"
        )
    try:
        words = shlex.split(line)[2:]
    except ValueError:
        raise KubeError(f"`{what}` printed a `kubeadm join` line that cannot be split") from None
    endpoint: str | None = None
    token: str | None = None
    hashes: list[str] = []
    control_plane = False
    certificate_key: str | None = None
    flags_with_value = {"--token", "--discovery-token-ca-cert-hash", "--certificate-key"}
    index = 0
    while index < len(words):
        word = words[index]
        name, eq, value = word.partition("=")
        if name in flags_with_value:
            if not eq:
                index += 1
                value = words[index] if index < len(words) else ""
            if name == "--token":
                token = value
            elif name == "--discovery-token-ca-cert-hash":
                hashes.append(value)
            else:
                certificate_key = value
        elif word == "--control-plane":
            control_plane = True
        elif not word.startswith("-") and endpoint is None:
            endpoint = word
        index += 1
    if endpoint is None:
        raise KubeError(f"`{what}`: the `kubeadm join` line names no API server endpoint")
    if token is None or not _TOKEN.match(token):
        raise KubeError(f"`{what}`: the `kubeadm join` line has no valid --token")
    if not hashes or not all(_HASH.match(h) for h in hashes):
        raise KubeError(
            f"`{what}`: the `kubeadm join` line has no valid --discovery-token-ca-cert-hash"
        )
    if certificate_key is not None and not _CERT_KEY.match(certificate_key):
        raise KubeError(f"`{what}`: the --certificate-key is not 64 hexadecimal digits")
    return JoinCommand(endpoint, token, tuple(hashes), control_plane, certificate_key)


def parse_certificate_key(output: str, what: str = "kubeadm init phase upload-certs") -> str:
    """The key printed after ``[upload-certs] Using certificate key:``."""
    lines = [line.strip() for line in output.splitlines()]
    for index, line in enumerate(lines):
        if line.endswith("Using certificate key:"):
            following = lines[index + 1] if index + 1 < len(lines) else ""
            if _CERT_KEY.match(following):
                return following
            raise KubeError(f"`{what}`: the line after 'Using certificate key:' is not a key")
    raise KubeError(f"`{what}` printed no 'Using certificate key:' line")
