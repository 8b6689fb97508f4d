"""Which host copies the package from where (pure): the relay tree of a run.

With ``spec.package.distribution: direct`` every host needing a copy gets it from the
workstation. With ``relay`` (or ``auto`` and at least :data:`AUTO_RELAY_FROM` hosts needing a
copy) the workstation uploads to one host only when no host holds a verified copy yet; every
host that holds one (from before the run, or once its own copy is verified) then serves up to
``fanout`` others, breadth first in Clusterfile order, so a host's source always comes before
it and the tree is about log_fanout(N) copies deep. The uplink of the workstation carries one
copy, not N.

Whether two hosts can reach each other is not guessed here: the distribute step finds out
(the copy's connection fails) and then uploads from the workstation, saying so.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

__all__ = ["AUTO_RELAY_FROM", "Source", "relay_sources", "uses_relay"]

#: ``distribution: auto`` relays when at least this many hosts need a copy.
AUTO_RELAY_FROM = 4


@dataclass(frozen=True)
class Source:
    """Where one host's copy comes from: ``host`` None is the workstation. ``copying``: the
    source gets its own copy in this run (its distribute step comes first)."""

    host: str | None
    copying: bool = False


def uses_relay(distribution: str, needing: int) -> bool:
    if distribution == "direct":
        return False
    if distribution == "relay":
        return True
    return needing >= AUTO_RELAY_FROM


def relay_sources(
    needing: Sequence[str],
    holders: Sequence[str],
    *,
    fanout: int,
    relay: bool,
) -> Mapping[str, Source]:
    """The source of each host of ``needing`` (in that order), given the hosts that hold a
    verified copy already (``holders``, which serve first)."""
    if not relay:
        return {host: Source(None) for host in needing}
    if fanout < 1:
        raise ValueError(f"fanout must be at least 1, not {fanout}")
    servers: deque[tuple[str, bool]] = deque((h, False) for h in holders)
    slots = dict.fromkeys(holders, fanout)
    sources: dict[str, Source] = {}
    for host in needing:
        if host in slots:  # holds a copy already: needs only the install
            sources[host] = Source(None)
            continue
        if not servers:
            sources[host] = Source(None)
        else:
            server, copying = servers[0]
            sources[host] = Source(server, copying)
            slots[server] -= 1
            if slots[server] == 0:
                servers.popleft()
        slots[host] = fanout
        servers.append((host, True))
    return sources
