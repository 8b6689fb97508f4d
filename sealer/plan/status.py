"""``sealer status``: the whole cluster at a glance, judged (pure).

Built from what ``diff`` reads (the :class:`ClusterState`, the plan) plus the status facts
(:mod:`sealer.facts.status`). The document :meth:`StatusReport.to_dict` returns is the stable
JSON of ``sealer status --output json`` (docs/cli.md); :attr:`StatusReport.exit_code` is 0
(healthy, nothing pending), 2 (healthy, changes pending) or 3 (something unhealthy).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sealer.facts.status import ClusterStatusFacts, HostStatusFacts
from sealer.layout import BACKUP_SERVICE_NAME
from sealer.plan.state import ClusterState
from sealer.spec.model import Cluster

__all__ = ["EXIT_HEALTHY", "EXIT_PENDING", "EXIT_UNHEALTHY", "StatusReport", "build_report"]

EXIT_HEALTHY = 0
EXIT_PENDING = 2
EXIT_UNHEALTHY = 3


@dataclass(frozen=True)
class StatusReport:
    cluster: str
    hosts: tuple[dict[str, Any], ...]
    cluster_status: dict[str, Any]
    pending: int | None  # steps diff would run; None when it could not plan
    pending_error: str
    problems: tuple[str, ...] = field(default_factory=tuple)

    @property
    def healthy(self) -> bool:
        return not self.problems

    @property
    def exit_code(self) -> int:
        if self.problems:
            return EXIT_UNHEALTHY
        return EXIT_PENDING if self.pending else EXIT_HEALTHY

    def to_dict(self) -> dict[str, Any]:
        return {
            "cluster": self.cluster,
            "healthy": self.healthy,
            "problems": list(self.problems),
            "pending": {"steps": self.pending, "error": self.pending_error or None},
            "hosts": list(self.hosts),
            "control_plane": self.cluster_status,
            "exit_code": self.exit_code,
        }


def _iso(when: dt.datetime | None) -> str | None:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ") if when is not None else None


def _backups(facts: HostStatusFacts | None) -> dict[str, Any] | None:
    if facts is None or facts.backups is None:
        return None
    last = facts.backups.last
    return {
        "last_snapshot": last.name if last is not None else None,
        "taken": _iso(last.taken) if last is not None else None,
        "last_run_failed": facts.backups.last_run_failed,
    }


def _runtime(facts: HostStatusFacts | None) -> dict[str, Any] | None:
    if facts is None or facts.runtime is None:
        return None
    status = facts.runtime
    return {
        "answers": status.answers,
        "network_ready": status.network_ready,
        "detail": status.detail or None,
    }


def build_report(
    cluster: Cluster,
    live: ClusterState,
    host_facts: Mapping[str, HostStatusFacts],
    cluster_facts: ClusterStatusFacts,
    *,
    pending: int | None,
    pending_error: str = "",
    locks: Sequence[str] = (),
) -> StatusReport:
    """The report; ``problems`` lists every unhealthy thing, one sentence each."""
    spec = cluster.spec
    problems: list[str] = []
    hosts: list[dict[str, Any]] = []
    for address in spec.all_addresses:
        host = live.hosts[address]
        role = spec.role_of(address)
        facts = host_facts.get(address)
        node = live.node_at(address)
        joined = host.role is not None
        entry: dict[str, Any] = {
            "address": address,
            "role": role,
            "reachable": host.reachable,
            "error": host.error or None,
            "hostname": host.hostname or None,
            "joined_as": host.role,
            "versions": {
                "kubeadm": host.kubeadm_version,
                "kubelet": node.version if node is not None else None,
                "package": facts.package_version if facts else None,
            },
            "kubelet_active": facts.kubelet_active if facts else None,
            "runtime": _runtime(facts),
            "node_ready": node.ready if node is not None else None,
            "load_balancer": None,
            "earliest_certificate": None,
            "backups": _backups(facts),
        }
        if not host.reachable:
            problems.append(f"{address}: unreachable ({host.error})")
        if facts is not None and facts.earliest_cert is not None:
            path, not_after = facts.earliest_cert
            entry["earliest_certificate"] = {"path": path, "not_after": _iso(not_after)}
        installed = joined or (facts is not None and facts.package_version is not None)
        runtime = facts.runtime if facts is not None else None
        if installed and runtime is not None and not runtime.answers:
            problems.append(f"{address}: the container runtime does not answer ({runtime.detail})")
        if facts is not None and facts.backups is not None and facts.backups.last_run_failed:
            problems.append(
                f"{address}: the last scheduled etcd snapshot failed "
                f"(`journalctl -u {BACKUP_SERVICE_NAME}` on it says why)"
            )
        if joined and facts is not None and not facts.kubelet_active:
            problems.append(f"{address}: the kubelet is not active")
        if joined and live.initialized and (node is None or not node.ready):
            problems.append(f"{address}: its Node is not Ready")
        if role == "node" and joined:
            wanted = list(spec.master_addresses)
            serving = list(facts.lb_backends or ()) if facts else []
            entry["load_balancer"] = {
                "backends": [
                    {"master": m, "healthy": m in serving} for m in wanted
                ],  # healthy: the daemon keeps it in the VIP's rules
                "rules": facts is not None and facts.lb_backends is not None,
            }
            if facts is not None and facts.lb_backends is None:
                problems.append(f"{address}: the load balancer has no rules for the VIP")
            down = [m for m in wanted if m not in serving]
            if facts is not None and facts.lb_backends is not None and down:
                problems.append(
                    f"{address}: the load balancer does not send the VIP to {', '.join(down)}"
                )
        hosts.append(entry)

    api = {m: {"ready": h.ok, "detail": h.detail or None} for m, h in cluster_facts.api.items()}
    for master, health in cluster_facts.api.items():
        if not health.ok:
            problems.append(f"{master}: its API server is not ready ({health.detail})")
    etcd: dict[str, Any] | None = None
    if live.initialized:
        members = [
            {"endpoint": e.endpoint, "healthy": e.healthy, "error": e.error or None}
            for e in cluster_facts.etcd or ()
        ]
        etcd = {
            "members": members,
            "names": list(live.etcd_members),
            "leader": cluster_facts.etcd_leader,
            "error": cluster_facts.etcd_error or None,
        }
        if cluster_facts.etcd is None:
            problems.append(f"etcd could not be read: {cluster_facts.etcd_error}")
        for member in cluster_facts.etcd or ():
            if not member.healthy:
                problems.append(f"etcd member {member.endpoint} is not healthy ({member.error})")
        if cluster_facts.etcd is not None and cluster_facts.etcd_leader is None:
            problems.append("etcd has no leader")
    for master, why in live.unread.items():
        problems.append(f"{master}: the cluster could not be read through it ({why})")
    if pending is None:
        problems.append(f"the plan could not be made: {pending_error}")
    cluster_status = {
        "initialized": live.initialized,
        "api_host": live.api_host,
        "api": api,
        "etcd": etcd,
        "lock": list(locks),
    }
    return StatusReport(
        cluster.metadata.name,
        tuple(hosts),
        cluster_status,
        pending,
        pending_error,
        tuple(dict.fromkeys(problems)),
    )
