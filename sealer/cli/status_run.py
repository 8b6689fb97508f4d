"""What `sealer status` does; its options are registered in :mod:`sealer.cli.cmd_status`.

`sealer status -f FILE [--output json] [--watch [SECONDS]]`: the cluster at a glance.

Read-only: what ``diff`` reads (every host, the cluster through the master that serves it, the
plan) plus each host's kubelet, package, load-balancer rules and certificates, etcd's health
and leader, every master's own API server and the run lock. Exit 0 when everything is healthy
and nothing is pending, 2 when changes are pending, 3 when something is unhealthy.
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from rich.markup import escape
from rich.table import Table

from sealer.aio import gather_all
from sealer.cli.render import Ui
from sealer.cli.session import pool_options, run_async
from sealer.clusterfile import load as load_clusterfile
from sealer.connect import Connections, HostAccess
from sealer.errors import PlanError, SealerError, UsageError
from sealer.facts.status import HostStatusFacts, gather_cluster_status, gather_host_status
from sealer.kube.kubeadm_config import cri_socket_of, render_kubeadm_config
from sealer.lock import lock_masters, seen_locks
from sealer.offline_package import prepare_cluster_package
from sealer.plan.observe import observe
from sealer.plan.status import StatusReport, build_report
from sealer.reconcile import decide
from sealer.spec import LoadedClusterfile
from sealer.spec.model import Cluster


async def _host_status(
    conns: Connections, access: HostAccess, cri_socket: str, backup_dir: str | None
) -> HostStatusFacts | None:
    try:
        return await gather_host_status(conns, access, cri_socket, backup_dir)
    except SealerError:
        return None  # the report shows what the host answered to diff's reads


def _cri_socket(cluster: Cluster, address: str) -> str:
    """The runtime endpoint the host's kubelet is given (its kubeadm configuration's)."""
    return cri_socket_of(render_kubeadm_config(cluster, address))


def _backup_dir(cluster: Cluster, address: str) -> str | None:
    """Where a master keeps its scheduled snapshots (``spec.backup.dir``); None elsewhere."""
    backup = cluster.spec.backup
    if backup is None or cluster.spec.role_of(address) != "master":
        return None
    return backup.dir


async def read_status(
    conns: Connections, loaded: LoadedClusterfile, connect_timeout: float
) -> StatusReport:
    cluster = loaded.cluster
    spec = cluster.spec
    package = prepare_cluster_package(cluster)
    observation = await observe(conns, cluster, package.name, connect_timeout=connect_timeout)
    state = observation.state
    pending: int | None
    try:
        pending, pending_error = len(decide(cluster, package, observation).plan.steps), ""
    except PlanError as exc:
        pending, pending_error = None, exc.message
    reachable = [a for a in spec.all_addresses if state.hosts[a].reachable]
    facts = await gather_all(
        *(
            _host_status(
                conns, observation.access[a], _cri_socket(cluster, a), _backup_dir(cluster, a)
            )
            for a in reachable
        )
    )
    host_facts = {a: f for a, f in zip(reachable, facts, strict=True) if f is not None}
    # every master that joined: by its files, or as a Node (a master whose API server's
    # manifest is gone has only the kubelet's files left, and is exactly what to report)
    masters = [
        observation.access[m]
        for m in spec.master_addresses
        if state.hosts[m].reachable
        and (state.hosts[m].role is not None or state.node_at(m) is not None)
    ]
    api_host = observation.access[state.api_host] if state.api_host else None
    cluster_facts = await gather_cluster_status(conns, api_host, masters)
    locks = await seen_locks(conns, lock_masters(cluster, connect_timeout=connect_timeout))
    return build_report(
        cluster,
        state,
        host_facts,
        cluster_facts,
        pending=pending,
        pending_error=pending_error,
        locks=locks,
    )


def _mark(value: bool | None) -> str:
    if value is None:
        return "[dim]-[/dim]"
    return "[green]yes[/green]" if value else "[red]no[/red]"


def _backup_text(backups: dict[str, Any] | None) -> str:
    if backups is None:
        return "-"
    text = escape(backups["taken"]) if backups["taken"] else "none yet"
    return text + (" [red](last run failed)[/red]" if backups["last_run_failed"] else "")


def print_report(ui: Ui, report: StatusReport) -> None:
    table = Table(title=f"sealer status: cluster {report.cluster}", title_justify="left")
    with_backups = any(host["backups"] is not None for host in report.hosts)
    for column in ("host", "role", "reachable", "runtime", "kubelet", "Node Ready", "versions",
                   "load balancer", "earliest certificate"):  # fmt: skip
        table.add_column(column)
    if with_backups:
        table.add_column("last scheduled snapshot")
    for host in report.hosts:
        versions = host["versions"]
        shown = ", ".join(f"{k} {v}" for k, v in versions.items() if v) or "-"
        lb = host["load_balancer"]
        lb_text = "-"
        if lb is not None:
            lb_text = " ".join(
                f"[{'green' if b['healthy'] else 'red'}]{b['master']}[/]" for b in lb["backends"]
            )
        cert = host["earliest_certificate"]
        backup_cells = [_backup_text(host["backups"])] if with_backups else []
        table.add_row(
            escape(host["address"]),
            host["role"] + (f" ({host['joined_as']})" if host["joined_as"] else ""),
            _mark(host["reachable"]),
            _mark(host["runtime"]["answers"] if host["runtime"] else None),
            _mark(host["kubelet_active"]),
            _mark(host["node_ready"]),
            escape(shown),
            lb_text,
            escape(f"{cert['not_after']} {cert['path']}") if cert else "-",
            *backup_cells,
        )
    ui.out.print(table)
    plane = report.cluster_status
    if plane["initialized"]:
        for master, api in plane["api"].items():
            detail = f" ({escape(api['detail'])})" if api["detail"] else ""
            ui.out.print(f"API via {master}: {_mark(api['ready'])}{detail}")
        etcd = plane["etcd"]
        members = ", ".join(
            f"[{'green' if m['healthy'] else 'red'}]{escape(m['endpoint'])}[/]"
            + (" (leader)" if m["endpoint"] == etcd["leader"] else "")
            for m in etcd["members"]
        )
        ui.out.print(f"etcd: {members or escape(etcd['error'] or 'not read')}")
    else:
        ui.out.print("no cluster yet: hosts only")
    ui.out.print(f"run lock: {escape('; '.join(plane['lock'])) if plane['lock'] else 'free'}")
    if report.pending is None:
        ui.out.print(f"pending: [red]cannot plan[/red]: {escape(report.pending_error)}")
    else:
        ui.out.print(f"pending: {report.pending} step(s) (`sealer diff` shows them)")
    for problem in report.problems:
        ui.out.print(f"[red]unhealthy[/red]: {escape(problem)}")
    if report.healthy:
        ui.out.print("[green]healthy[/green]")


def run(args: argparse.Namespace, ui: Ui) -> int:
    loaded = load_clusterfile(args.file)
    options = pool_options(args, loaded)
    if args.watch is not None and args.watch <= 0:
        raise UsageError("--watch must be more than 0 seconds")

    async def main() -> int:
        async with Connections(options) as conns:
            while True:
                report = await read_status(conns, loaded, args.connect_timeout)
                if ui.output == "json":
                    ui.print_json(report.to_dict())
                else:
                    if args.watch is not None and ui.out.is_terminal:
                        ui.out.clear()
                    print_report(ui, report)
                if args.watch is None:
                    return report.exit_code
                await asyncio.sleep(args.watch)  # --watch: the user's refresh interval

    return run_async(main)
