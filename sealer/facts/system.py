"""Facts about the machine: hostname, OS, architecture, python3, file checksums."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

from sealer.connect import Result, builtin_argv
from sealer.facts.base import Fact, UnexpectedExit, require_ok

__all__ = [
    "Arch",
    "OsRelease",
    "arch",
    "file_sha256",
    "hostname",
    "normalize_arch",
    "os_release",
    "parse_hostname",
    "parse_os_release",
    "parse_python3",
    "parse_sha256sum",
    "parse_sha256sums",
    "python3",
]


#: A lower-case RFC 1123 subdomain, what Kubernetes accepts as a node name.
_RFC1123 = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


def parse_hostname(stdout: str) -> str:
    """``hostname`` output::

    master-0

    The name, lower-cased as the kubelet and kubeadm lower-case it, becomes the node name and
    an argument of kubectl and kubeadm, so it must be an RFC 1123 name (letters, digits, ``-``
    and ``.``, at most 253 characters).
    """
    name = stdout.strip().lower()
    if not name or len(name) > 253 or not _RFC1123.match(name):
        raise ValueError(
            f"the host name {stdout.strip()[:80]!r} is not an RFC 1123 name (letters, digits, "
            "'-' and '.', at most 253 characters): Kubernetes takes it, lower-cased, as the "
            "node name; set one with hostnamectl"
        )
    return name


hostname: Fact[str] = Fact("hostname", ("hostname",), lambda r: parse_hostname(require_ok(r)))


@dataclass(frozen=True)
class OsRelease:
    """The fields of /etc/os-release sealer uses (``id``: "debian", ``version_id``: "12")."""

    id: str
    version_id: str
    pretty_name: str
    id_like: tuple[str, ...] = ()


def parse_os_release(text: str) -> OsRelease:
    """/etc/os-release (shell-style assignments, values possibly quoted)::

    PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
    NAME="Debian GNU/Linux"
    VERSION_ID="12"
    ID=debian
    """
    fields: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        try:
            parts = shlex.split(value)
        except ValueError:
            parts = [value.strip("\"'")]
        fields[key.strip()] = " ".join(parts)
    if "ID" not in fields:
        raise ValueError("/etc/os-release has no ID")
    return OsRelease(
        id=fields["ID"],
        version_id=fields.get("VERSION_ID", ""),
        pretty_name=fields.get("PRETTY_NAME", fields["ID"]),
        id_like=tuple(fields.get("ID_LIKE", "").split()),
    )


os_release: Fact[OsRelease] = Fact(
    "os-release", ("cat", "/etc/os-release"), lambda r: parse_os_release(require_ok(r))
)


@dataclass(frozen=True)
class Arch:
    """``machine`` as ``uname -m`` says it ("x86_64"), ``name`` as Go/Kubernetes do ("amd64")."""

    machine: str
    name: str


_ARCH = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}


def normalize_arch(machine: str) -> Arch:
    """``uname -m`` output::

    x86_64
    """
    machine = machine.strip()
    if not machine:
        raise ValueError("empty uname -m output")
    return Arch(machine, _ARCH.get(machine, machine))


arch: Fact[Arch] = Fact("arch", ("uname", "-m"), lambda r: normalize_arch(require_ok(r)))


def parse_python3(result: Result) -> str | None:
    """``sh -c 'command -v python3'``: the path, or None (exit status 1, no output)::

    /usr/bin/python3
    """
    if result.exit_status == 1 and not result.stdout.strip():
        return None
    path = require_ok(result).strip()
    if not path:
        raise ValueError("command -v printed nothing")
    return path


python3: Fact[str | None] = Fact(
    "python3", tuple(builtin_argv("command", "-v", "python3")), parse_python3, sudo=False
)

_SHA256 = re.compile(r"^\\?([0-9a-f]{64}) [ *]")


def parse_sha256sum(result: Result) -> str | None:
    """``sha256sum -- PATH``: the hex digest, or None when the file does not exist::

        427f93cafd9cc19be6eec03e590c9c6cdf9f688a5eaf21fa8d72351e2b15fd05  /etc/hostname

    (a leading backslash marks escaped file names; it is not part of the digest).
    """
    if result.exit_status != 0:
        if "No such file or directory" in result.stderr:
            return None
        raise UnexpectedExit(result)
    match = _SHA256.match(result.stdout)
    if match is None:
        raise ValueError(f"unexpected sha256sum output: {result.stdout[:100]!r}")
    return match.group(1)


def parse_sha256sums(stdout: str) -> dict[str, str]:
    """``sha256sum -- A B ...`` -> {path: digest} for the files it read (missing files only
    print to stderr). Escaped names (a leading backslash) are left out: sealer's paths have
    none."""
    digests: dict[str, str] = {}
    for line in stdout.splitlines():
        digest, sep, path = line.partition("  ")
        if sep and _SHA256.match(line) and not line.startswith("\\"):
            digests[path] = digest
    return digests


def file_sha256(path: str) -> Fact[str | None]:
    """The sha256 of remote ``path`` (None when missing)."""
    return Fact(f"sha256 of {path}", ("sha256sum", "--", path), parse_sha256sum)
