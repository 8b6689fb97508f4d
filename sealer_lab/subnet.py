"""Choosing a lab's /24 so that two labs (or two CI runs) on one machine never collide.

Candidates are 10.200.0.0/24, 10.200.1.0/24, ... 10.215.255.0/24 (outside the usual Kubernetes
pod and service ranges). A candidate is free when no route or address of the root namespace
overlaps it and no lab state under the lab root claims it. The choice is made under an
exclusive lock on ``/run/sealer-lab.lock`` (machine-wide, whatever ``SEALER_LAB_DIR`` is) held
until the lab's bridge carries the address, which makes the choice visible to the next caller.
"""

from __future__ import annotations

import fcntl
import ipaddress
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sealer.errors import LabError
from sealer_lab.netns import route_prefixes

__all__ = ["LOCK_PATH", "choose_subnet", "first_free", "subnet_lock"]

LOCK_PATH = Path("/run/sealer-lab.lock")


@contextmanager
def subnet_lock() -> Iterator[None]:
    LOCK_PATH.parent.mkdir(parents=True, exist_ok=True)
    with LOCK_PATH.open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _candidates() -> Iterator[ipaddress.IPv4Network]:
    for second in range(200, 216):
        for third in range(256):
            yield ipaddress.IPv4Network(f"10.{second}.{third}.0/24")


def first_free(used_prefixes: Iterable[str]) -> str:
    """The first candidate /24 that overlaps none of ``used_prefixes`` (pure)."""
    used = [ipaddress.IPv4Network(p, strict=False) for p in used_prefixes]
    for net in _candidates():
        if not any(net.overlaps(u) for u in used):
            return str(net)
    raise LabError("no free 10.200-215.x.0/24 subnet is left for a lab on this machine")


def choose_subnet(claimed: set[str]) -> str:
    """The first free candidate /24 given the machine's routes; call with the lock held."""
    return first_free([*route_prefixes(), *claimed])
