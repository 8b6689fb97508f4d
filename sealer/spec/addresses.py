"""Host entries of a Clusterfile: IPv4/IPv6 addresses, DNS names and address ranges.

A range ``192.168.0.10-192.168.0.19`` expands to every address from the first to the last,
inclusive. Ranges are IPv4 or IPv6 but never mixed, and at most :data:`MAX_RANGE` long.
"""

from __future__ import annotations

import ipaddress
import re

__all__ = ["MAX_HOSTS", "MAX_RANGE", "check_entry", "count_entry", "expand_entry", "is_ip"]

MAX_RANGE = 4096
#: Hosts in one Clusterfile, ranges expanded: Kubernetes' own limit of 5,000 nodes per cluster.
MAX_HOSTS = 5000
_DNS_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_LOOKS_IPV4 = re.compile(r"^[0-9.]+$")


def is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _check_ip(text: str) -> str:
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        raise ValueError(f"'{text}' is not a valid IP address") from None


def _check_dns(text: str) -> str:
    name = text.rstrip(".").lower()
    labels = name.split(".")
    # an all-numeric last label is no name (RFC 3696 2): '10.0.0.1-a10.0.0.5' is a typo
    if (
        len(name) > 253
        or not all(_DNS_LABEL.match(label) for label in labels)
        or labels[-1].isdigit()
    ):
        raise ValueError(f"'{text}' is neither an IP address nor a valid DNS name")
    return name


def check_entry(text: str) -> str:
    """Validate one entry; return it normalised (ranges are kept as ranges)."""
    text = text.strip()
    if not text:
        raise ValueError("empty host entry")
    if "-" in text and (_LOOKS_IPV4.match(text.replace("-", "")) or ":" in text):
        first, _, last = text.partition("-")
        start, end = _check_ip(first.strip()), _check_ip(last.strip())
        a, b = ipaddress.ip_address(start), ipaddress.ip_address(end)
        if a.version != b.version:
            raise ValueError(f"range '{text}' mixes IPv4 and IPv6")
        if int(b) < int(a):
            raise ValueError(f"range '{text}' ends before it starts")
        if int(b) - int(a) + 1 > MAX_RANGE:
            raise ValueError(f"range '{text}' has more than {MAX_RANGE} addresses")
        return f"{start}-{end}"
    if _LOOKS_IPV4.match(text) or ":" in text:
        return _check_ip(text)
    return _check_dns(text)


def count_entry(entry: str) -> int:
    """How many hosts a validated entry stands for, without expanding it."""
    first, dash, last = entry.partition("-")
    if dash and is_ip(first) and is_ip(last):
        return int(ipaddress.ip_address(last)) - int(ipaddress.ip_address(first)) + 1
    return 1


def expand_entry(entry: str) -> list[str]:
    """Expand a validated entry into the host addresses it stands for."""
    first, dash, last = entry.partition("-")
    if dash and is_ip(first) and is_ip(last):  # else a DNS name such as 10-0-0-1.example.com
        a, b = ipaddress.ip_address(first), ipaddress.ip_address(last)
        return [str(ipaddress.ip_address(n)) for n in range(int(a), int(b) + 1)]
    return [entry]
