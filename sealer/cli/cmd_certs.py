"""`sealer certs check|renew -f FILE`: the certificates of every master, and their renewal."""

from __future__ import annotations

import argparse
import datetime as dt
from typing import TYPE_CHECKING

from rich.markup import escape

from sealer.certops.defaults import READY_TIMEOUT, WARN_DAYS
from sealer.cli.options import (
    add_break_lock,
    add_clusterfile,
    add_connection_options,
    add_output,
)
from sealer.cli.render import Ui

if TYPE_CHECKING:
    from sealer.certops import CertProblem, MasterRenewal, RenewEvent
    from sealer.kube.certcheck import CertRow
    from sealer.spec.model import Cluster

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "certs",
        help="show or renew the cluster certificates",
        description="Show every certificate on every master with its expiry, or re-issue the "
        "leaf certificates from the cluster's own CAs, one master at a time.",
    )
    verbs = parser.add_subparsers(dest="certs_verb", metavar="SUBCOMMAND", required=True)

    check = verbs.add_parser(
        "check",
        help="every certificate on every master, with its expiry",
        description="Read the certificates and kubeconfigs under /etc/kubernetes (and the "
        "kubelet's client certificate) on every master and show subject, expiry, issuer and "
        "whether the signature verifies against that CA. Exits 1 when a certificate is expired "
        "or not validly signed. Changes nothing.",
    )
    add_clusterfile(check)
    check.add_argument(
        "--warn-days",
        type=int,
        default=WARN_DAYS,
        metavar="N",
        help=f"warn about certificates with fewer days left (default {WARN_DAYS})",
    )
    add_output(check)
    add_connection_options(check)
    check.set_defaults(handler=run_check)

    renew = verbs.add_parser(
        "renew",
        help="re-issue the leaf certificates, one master at a time",
        description="Re-issue every leaf certificate and kubeconfig of every master from the "
        "cluster's existing CAs (never a new CA), valid spec.certificates.validityYears, then "
        "restart the master's control-plane static pods and wait until its API server is "
        "ready and its etcd member healthy before the next master. Refuses to start unless "
        "every master is healthy.",
    )
    add_clusterfile(renew)
    renew.add_argument(
        "--add-san",
        action="append",
        default=[],
        metavar="NAME_OR_IP",
        help="one more SAN in the API server certificate (repeatable); also add it to "
        "spec.network.certSANs so that later masters carry it",
    )
    renew.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")
    renew.add_argument("--log", metavar="FILE", help="the run log (JSON lines)")
    renew.add_argument(
        "--ready-timeout",
        type=float,
        default=READY_TIMEOUT,
        metavar="SECONDS",
        help=f"how long one master may take to be healthy again (default {READY_TIMEOUT:.0f})",
    )
    add_break_lock(renew)
    add_output(renew)
    add_connection_options(renew)
    renew.set_defaults(handler=run_renew)


# -- check ----------------------------------------------------------------------------------


def _left(days: int) -> str:
    if days < 0:
        return "expired"
    years, rest = divmod(days, 365)
    return f"{years}y {rest}d" if years else f"{rest}d"


def _print_rows(ui: Ui, rows: list[CertRow]) -> None:
    from rich.table import Table  # not at start-up (--help)

    if not ui.out.is_terminal:
        for row in rows:
            ok = {True: "ok", False: "BAD", None: "?"}[row.signed_by_ca_ok]
            ui.out.print(
                f"{row.host}  {row.name:<40} {row.not_after:%Y-%m-%d %H:%M}Z  "
                f"{_left(row.days_left):>9}  {row.issuer:<15} {ok}",
                markup=False,
            )
        return
    table = Table(title="certificates", title_justify="left")
    for column in ("host", "file", "expires (UTC)", "left", "issuer", "signature"):
        table.add_column(column)
    for row in rows:
        ok = {True: "[green]ok[/green]", False: "[red]BAD[/red]", None: "?"}[row.signed_by_ca_ok]
        table.add_row(
            row.host,
            escape(row.name),
            f"{row.not_after:%Y-%m-%d %H:%M}",
            _left(row.days_left),
            escape(row.issuer),
            ok,
        )
    ui.out.print(table)


def run_check(args: argparse.Namespace, ui: Ui) -> int:
    # Imported here, not at start-up: `sealer --version` and `--help` need none of it.
    from sealer.certops import check_masters, problems
    from sealer.cli.session import pool_options, run_async
    from sealer.clusterfile import load as load_clusterfile
    from sealer.connect import Connections

    loaded = load_clusterfile(args.file)
    cluster = loaded.cluster
    options = pool_options(args, loaded)

    async def main() -> tuple[list[CertRow], list[CertProblem]]:
        async with Connections(options) as conns:
            return await check_masters(conns, cluster)

    rows, unread = run_async(main)
    reachable = [a for a in cluster.spec.master_addresses if a not in {p.host for p in unread}]
    found = unread + problems(rows, hosts=reachable, warn_days=args.warn_days)
    if ui.output == "json":
        ui.print_json(
            {
                "certificates": [row.to_json() for row in rows],
                "problems": [
                    {"severity": p.severity, "host": p.host, "name": p.name, "message": p.message}
                    for p in found
                ],
            }
        )
    else:
        _print_rows(ui, rows)
        for problem in found:
            colour = "red" if problem.severity == "error" else "yellow"
            ui.err.print(f"[{colour}]{problem.severity}[/{colour}]: {escape(str(problem))}")
    return 1 if any(p.severity == "error" for p in found) else 0


# -- renew ----------------------------------------------------------------------------------


def _print_event(ui: Ui, event: RenewEvent) -> None:
    ui.err.print(f"{event.phase:>9} {event.host} ({event.elapsed:.1f}s): {escape(event.message)}")


def _describe(ui: Ui, cluster: Cluster, sans: tuple[str, ...], ca_end: dt.datetime) -> None:
    spec = cluster.spec
    years = spec.certificates.validity_years
    ui.out.print(
        f"sealer certs renew: {cluster.metadata.name}: new leaf certificates and kubeconfigs "
        f"for {len(spec.master_addresses)} master(s), valid {years} years, from the cluster's "
        "own CAs; each master's kube-apiserver, kube-controller-manager, kube-scheduler and "
        "etcd restart, one master at a time.",
        markup=False,
    )
    now = dt.datetime.now(dt.UTC)
    end = min(now + dt.timedelta(days=365 * years), ca_end)
    ui.out.print(f"The new certificates end on {end:%Y-%m-%d}.", markup=False)
    if ca_end < now + dt.timedelta(days=365 * (years - 1)):
        ui.err.print(
            f"[yellow]warning[/yellow]: the cluster CA ends on {ca_end:%Y-%m-%d}, well before "
            f"{years} years from now: the new certificates end with it (a certificate cannot "
            "outlive its CA); renew never replaces a CA"
        )
    if sans:
        ui.out.print(f"API server certificates get the SAN(s): {', '.join(sans)}", markup=False)


def _san_advice(ui: Ui, cluster: Cluster, sans: tuple[str, ...], path: str) -> list[str]:
    from sealer.certops import missing_from_cert_sans

    missing = missing_from_cert_sans(cluster.spec, sans)
    if missing:
        ui.err.print(
            f"[yellow]note[/yellow]: add {', '.join(missing)} to spec.network.certSANs in "
            f"{escape(path)}: otherwise a master added later, and the next renew, will not "
            "carry the SAN"
        )
    elif sans:
        ui.err.print(f"spec.network.certSANs in {escape(path)} already lists every added SAN")
    return missing


def run_renew(args: argparse.Namespace, ui: Ui) -> int:
    # Imported here, not at start-up: `sealer --version` and `--help` need none of it.
    from sealer.certops import (
        RenewOptions,
        check_health,
        missing_from_cert_sans,
        parse_extra_sans,
        read_cluster_ca,
        refusal,
        renew_masters,
    )
    from sealer.cli.session import (
        confirm,
        open_run_log,
        pool_options,
        run_async,
        run_lock,
        run_log_path,
    )
    from sealer.clusterfile import load as load_clusterfile
    from sealer.connect import Connections

    sans = parse_extra_sans(args.add_san)
    loaded = load_clusterfile(args.file)
    for warning in loaded.warnings:
        ui.err.print(f"[yellow]warning[/yellow]: {warning}")
    cluster = loaded.cluster
    options = pool_options(args, loaded)
    log_path = run_log_path(args, cluster.metadata.name, "certs-renew")
    renew_options = RenewOptions(extra_sans=sans, ready_timeout=args.ready_timeout)
    quiet = ui.output == "json"

    async def main() -> list[MasterRenewal] | None:
        async with (
            Connections(options, recorder=open_run_log(log_path)) as conns,
            run_lock(ui, conns, cluster, args, "certs renew") as lock,
        ):
            masters = cluster.spec.master_addresses
            health = [await check_health(conns, cluster, address) for address in masters]
            error = refusal(health)
            if error is not None:
                raise error
            ca = await read_cluster_ca(conns, cluster)
            if not quiet:
                _describe(ui, cluster, sans, ca.ca.cert.not_valid_after_utc)
            if not confirm(
                ui, f"Renew the certificates of {len(masters)} master(s)?", yes=args.yes
            ):
                ui.err.print("nothing done")
                return None
            if not args.yes:
                await lock.check()  # the prompt held up the heartbeat: is the lock still ours?
            return await renew_masters(
                conns,
                cluster,
                ca,
                renew_options,
                # the snapshot's path is printed even when quiet
                lambda event: (
                    _print_event(ui, event) if event.phase == "snapshot" or not quiet else None
                ),
            )

    done = run_async(main)
    if done is None:
        if ui.output == "json":
            ui.print_json({"masters": [], "renewed": False, "log": str(log_path)})
        return 0
    missing = (
        _san_advice(ui, cluster, sans, args.file)
        if not quiet
        else (missing_from_cert_sans(cluster.spec, sans))
    )
    if ui.output == "json":
        ui.print_json(
            {
                "masters": [m.to_json() for m in done],
                "renewed": True,
                "added_sans": list(sans),
                "missing_from_cert_sans": missing,
                "log": str(log_path),
            }
        )
        return 0
    for master in done:
        ui.out.print(
            f"{master.address} ({master.hostname}): {len(master.files)} files renewed in "
            f"{master.seconds:.1f}s (down {master.down_seconds:.1f}s), valid until "
            f"{master.not_after:%Y-%m-%d}; old files in {master.backup}",
            markup=False,
        )
    ui.err.print(f"run log: {log_path}")
    return 0
