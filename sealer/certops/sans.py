"""``--add-san`` values: checked as an IP address or a DNS name, compared with certSANs."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Sequence

from sealer.errors import UsageError
from sealer.spec.model import ClusterSpec

__all__ = ["missing_from_cert_sans", "normalise_san", "parse_extra_sans"]

# RFC 1123 labels (letters, digits, inner hyphens), at most 63 characters each.
_LABEL = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")


def normalise_san(value: str) -> str:
    """The SAN as it goes into a certificate: an IP address in its compressed form, a DNS name
    lower-cased (``*.`` allowed as the first label). ValueError when it is neither."""
    text = value.strip()
    if not text:
        raise ValueError("empty")
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        pass
    name = text.lower().removesuffix(".")
    body = name[2:] if name.startswith("*.") else name
    labels = body.split(".")
    if len(name) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
        raise ValueError("neither an IP address nor a DNS name")
    if all(label.isdigit() for label in labels):
        raise ValueError("looks like an IP address but is not a valid one")
    return name


def parse_extra_sans(values: Iterable[str]) -> tuple[str, ...]:
    """The ``--add-san`` values normalised and deduplicated (first occurrence kept);
    UsageError naming every bad one."""
    good: dict[str, None] = {}
    bad: list[str] = []
    for value in values:
        try:
            good[normalise_san(value)] = None
        except ValueError as exc:
            bad.append(f"{value!r} ({exc})")
    if bad:
        raise UsageError(
            f"--add-san: {', '.join(bad)}: a SAN is an IP address or a DNS name",
            hint="e.g. --add-san 192.0.2.10 --add-san api.example.com",
        )
    return tuple(good)


def missing_from_cert_sans(spec: ClusterSpec, sans: Sequence[str]) -> list[str]:
    """The ``sans`` that ``spec.network.certSANs`` does not list (compared normalised)."""
    listed: set[str] = set()
    for value in spec.network.cert_sans:
        try:
            listed.add(normalise_san(value))
        except ValueError:
            listed.add(value)
    return [san for san in sans if normalise_san(san) not in listed]
