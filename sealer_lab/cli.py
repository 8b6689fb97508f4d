"""``sealer lab``: real SSH hosts on this machine, made of Linux namespaces (docs/lab.md).

A plugin of the product's command line: :func:`register` is the ``lab`` entry point of the
``sealer.commands`` group (pyproject.toml; see :mod:`sealer.cli.plugins`).

Sub-commands are registered by the functions in :data:`LAB_SUBCOMMANDS`; another module adds
one (e.g. ``lab package``) by providing ``register_lab(lab_subparsers) -> None`` and appending
that function to the tuple. Each registered parser sets ``handler`` like any other command.
"""

from __future__ import annotations

import argparse
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import sealer_lab as lab
from sealer.cli.options import add_output
from sealer.cli.render import Ui
from sealer.errors import UsageError
from sealer_lab.cli_package import register_lab as _register_package

if TYPE_CHECKING:
    from rich.table import Table

# The handlers import the lab's modules when they run: `sealer --version` and `--help` load
# this plugin and must not pay for it (docs/benchmarks.md, start-up).

__all__ = ["LAB_SUBCOMMANDS", "LabRegistrar", "register"]

LabRegistrar = Callable[["argparse._SubParsersAction[argparse.ArgumentParser]"], None]


def _name(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--name", default="lab", help="lab name (default: lab)")


def _output(parser: argparse.ArgumentParser) -> None:
    add_output(parser)


def _port_map(values: list[str]) -> dict[str, int]:
    ports: dict[str, int] = {}
    for value in values:
        host, sep, port = value.partition("=")
        if not sep or not port.isdigit() or not 0 < int(port) < 65536:
            raise UsageError(f"--host-port {value!r}: expected HOST=PORT, e.g. node-1=2222")
        ports[host] = int(port)
    return ports


def _lab_json(result: lab.Lab) -> dict[str, object]:
    return {
        "name": result.name,
        "dir": str(result.dir),
        "subnet": result.state.subnet,
        "bridge": result.state.bridge,
        "privateKey": str(result.key_path),
        "knownHosts": str(result.known_hosts),
        "sbinDir": str(result.sbin_dir),
        "clusterfile": None if result.clusterfile is None else str(result.clusterfile),
        "passwordFile": str(result.dir / "password") if result.password else None,
        "hosts": [h.model_dump(mode="json") for h in result.hosts],
    }


def _status_table(rows: list[lab.HostStatus]) -> Table:
    from rich.table import Table

    table = Table(box=None, pad_edge=False)
    for column in ("HOST", "ROLE", "ADDRESS", "NETNS", "SSH PORT", "INIT PID", "SSHD"):
        table.add_column(column, overflow="fold")
    for r in rows:
        table.add_row(
            r.name,
            r.role,
            r.address,
            r.netns,
            str(r.ssh_port),
            "-" if r.init_pid is None else str(r.init_pid),
            "[green]answers[/green]" if r.sshd else "[red]down[/red]",
        )
    return table


# --- handlers ----------------------------------------------------------------------------------


def _up(args: argparse.Namespace, ui: Ui) -> int:
    from sealer_lab.kube_lab import up_kubernetes_lab

    clusterfile = Path(args.clusterfile or f"{args.name}.yaml")
    result = up_kubernetes_lab(
        args.name,
        args.masters,
        args.nodes,
        version=args.version,
        bandwidth="" if args.bandwidth == "off" else args.bandwidth,
        password_login=args.password,
        sudo_user=args.sudo_user,
        ssh_port=args.ssh_port,
        host_ports=_port_map(args.host_port),
        clusterfile=clusterfile,
    )
    if ui.output == "json":
        ui.print_json(_lab_json(result))
        return 0
    ui.out.print(_status_table(lab.status(args.name)))
    ui.out.print(f"Clusterfile: {result.clusterfile}")
    ui.out.print(f"SSH key: {result.key_path}  known_hosts: {result.known_hosts}")
    if result.password:
        ui.out.print(f"Password login is on; the password is in {result.dir / 'password'}")
    return 0


def _status(args: argparse.Namespace, ui: Ui) -> int:
    rows = lab.status(args.name)
    if ui.output == "json":
        ui.print_json([r.to_json() for r in rows])
    else:
        ui.out.print(_status_table(rows))
    return 0 if all(r.sshd for r in rows) else 1


def _down(args: argparse.Namespace, ui: Ui) -> int:
    removed = lab.down(args.name)
    if ui.output == "json":
        ui.print_json({"name": args.name, "removed": removed})
    elif removed:
        for item in removed:
            ui.out.print(f"removed {item}")
    else:
        ui.out.print(f"lab {args.name}: nothing to remove")
    return 0


def _reboot(args: argparse.Namespace, ui: Ui) -> int:
    result = lab.reboot(args.name, args.host)
    host = result.host(args.host)
    pid = result.init_pid(host)
    if ui.output == "json":
        ui.print_json({"name": host.name, "init_pid": pid})
    else:
        ui.out.print(f"{host.name} rebooted (init pid {pid})")
    return 0


def _exec(args: argparse.Namespace, ui: Ui) -> int:  # noqa: ARG001 (a handler's signature)
    argv = list(args.argv)
    if argv and argv[0] == "--":
        argv = argv[1:]
    if not argv:
        raise UsageError("sealer lab exec: give a command after the host, e.g. -- hostname")
    from sealer_lab.hosts import SESSION_ENV

    current = lab.get(args.name)
    return subprocess.run(
        current.exec_argv(args.host, argv), env=SESSION_ENV, check=False
    ).returncode


# --- registration ------------------------------------------------------------------------------


def _register_up(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("up", help="create the lab's hosts (or add hosts) and write a Clusterfile")
    _name(p)
    p.add_argument("--masters", type=int, default=3, help="number of masters (default: 3)")
    p.add_argument("--nodes", type=int, default=2, help="number of nodes (default: 2)")
    p.add_argument("--version", default="v1.29.3", help="Kubernetes version for the Clusterfile")
    p.add_argument(
        "-o", "--clusterfile", metavar="FILE", help="Clusterfile path (default: NAME.yaml)"
    )
    p.add_argument(
        "--bandwidth", metavar="RATE", help="shape every host link, e.g. 100mbit ('off' removes)"
    )
    p.add_argument("--password", action="store_true", help="also allow password login")
    p.add_argument("--sudo-user", metavar="USER", help="add a non-root user with sudo")
    p.add_argument("--ssh-port", type=int, default=22, help="sshd port of new hosts")
    p.add_argument(
        "--host-port",
        action="append",
        default=[],
        metavar="HOST=PORT",
        help="sshd port of one new host (node-1=2222); repeatable",
    )
    _output(p)
    p.set_defaults(handler=_up)


def _register_status(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("status", help="each host: role, address, namespace, whether sshd answers")
    _name(p)
    _output(p)
    p.set_defaults(handler=_status)


def _register_down(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("down", help="remove everything the lab made (also a half-made lab)")
    _name(p)
    _output(p)
    p.set_defaults(handler=_down)


def _register_reboot(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("reboot", help="end every process of a host, then boot it again")
    _name(p)
    p.add_argument("host", help="host name, short name (node-1) or address")
    _output(p)
    p.set_defaults(handler=_reboot)


def _register_exec(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("exec", help="run a command inside a host without SSH (nsenter)")
    _name(p)
    p.add_argument("host", help="host name, short name (node-1) or address")
    p.add_argument("argv", nargs=argparse.REMAINDER, help="-- COMMAND [ARG...]")
    p.set_defaults(handler=_exec)


LAB_SUBCOMMANDS: tuple[LabRegistrar, ...] = (
    _register_up,
    _register_status,
    _register_down,
    _register_reboot,
    _register_exec,
    _register_package,
)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "lab", help="real SSH hosts on this machine (network namespaces) to rehearse on"
    )
    lab_sub = parser.add_subparsers(dest="lab_command", metavar="SUBCOMMAND")
    lab_sub.required = True
    for add in LAB_SUBCOMMANDS:
        add(lab_sub)
