"""Before a master is reset: etcd must be healthy and keep a quorum without it.

`kubeadm reset` on a master wipes its etcd data and asks etcd to drop its member. Done while
etcd's health is unknown, or while the member is still needed for a quorum, that can cost the
cluster its data. So sealer asks a master that serves the cluster first: every member's health
(``etcdctl endpoint health --cluster``) and the member list; it refuses unless the members that
remain without this host are a healthy quorum, and removes the host's member itself, by ID,
before the reset.
"""

from __future__ import annotations

from sealer.errors import CommandFailed, StepError
from sealer.facts.base import FactError, collect
from sealer.facts.cluster import ETCDCTL, EtcdMember, etcd_health, etcd_members
from sealer.steps.target import Target

__all__ = ["members_of_host", "prepare_master_reset", "quorum"]


def quorum(members: int) -> int:
    """Members etcd needs answering to make progress: a majority."""
    return members // 2 + 1


def members_of_host(members: list[EtcdMember], hostname: str, address: str) -> list[EtcdMember]:
    """The members that are this host: by name, or by peer URL (unstarted members have no
    name)."""
    peers = (f"https://{address}:2380", f"https://[{address}]:2380")
    return [
        m for m in members if (hostname and m.name == hostname) or set(peers) & set(m.peer_urls)
    ]


async def prepare_master_reset(target: Target, step: str, host: str) -> int:
    """Refuse unless resetting ``host`` keeps etcd a healthy quorum; then remove its member.
    Returns how many members were removed (0: the host had none)."""
    api = target.live.api_host
    if api is None or api == host:
        raise StepError(
            step,
            host,
            "no other master answers for the cluster, so etcd's health is unknown: sealer does "
            "not reset a master then",
        )
    access = target.access[api]
    try:
        members = await collect(target.conns, access, etcd_members)
        health = await collect(target.conns, access, etcd_health)
    except (CommandFailed, FactError) as exc:
        raise StepError(
            step, host, f"etcd's health is unknown ({exc}): sealer does not reset a master then"
        ) from None
    mine = members_of_host(members, target.hostname(host), host)
    remaining = [m for m in members if m not in mine]
    healthy = {h.endpoint for h in health if h.healthy}
    answering = [m for m in remaining if set(m.client_urls) & healthy]
    need = quorum(len(remaining))
    if len(answering) < need:
        raise StepError(
            step,
            host,
            f"etcd would be left with {len(answering)} healthy member(s) of {len(remaining)}, "
            f"fewer than the quorum of {need}: sealer does not reset this master now (bring the "
            "other masters' etcd back first)",
        )
    for member in mine:
        argv = [*ETCDCTL, "member", "remove", member.id_hex]
        await target.conns.run(access, argv)
    return len(mine)
