"""`sealer config kubeadm -f FILE [--host ADDR]`: print the kubeadm configuration of a host.

Touches no host. Facts sealer would gather over SSH (hostname, cgroup driver, the resolved
load-balancer backend) can be given as flags; the join token and CA hash are placeholders.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from rich.markup import escape

from sealer.cli.options import add_clusterfile, add_output
from sealer.cli.render import Ui
from sealer.errors import UsageError
from sealer.layout import KUBEADM_CONFIG_PATH

if TYPE_CHECKING:
    from sealer.kube.kubeadm_config import LbBackend


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "config",
        help="print generated configuration (kubeadm)",
        description="Print configuration sealer generates from a Clusterfile.",
    )
    sub = parser.add_subparsers(dest="config_command", metavar="WHAT")
    sub.required = True
    kubeadm = sub.add_parser(
        "kubeadm",
        help="the kubeadm configuration of one host",
        description="Print the kubeadm configuration (multi-document YAML) sealer would use on "
        f"a host, exactly as kept on the host at {KUBEADM_CONFIG_PATH}: InitConfiguration, "
        "ClusterConfiguration, KubeletConfiguration and KubeProxyConfiguration for master0, "
        "a JoinConfiguration for any other host. The bootstrap token and CA hash are "
        "obtained at apply time and shown as placeholders. Touches no host.",
    )
    add_clusterfile(kubeadm)
    kubeadm.add_argument(
        "--host", metavar="ADDR", help="the host (default: master0, the first master)"
    )
    kubeadm.add_argument(
        "--hostname", metavar="NAME", help="the host's hostname (default: left to kubeadm)"
    )
    kubeadm.add_argument("--ip", metavar="IP", help="IP to advertise when ADDR is a DNS name")
    kubeadm.add_argument(
        "--cgroup-driver",
        choices=("systemd", "cgroupfs"),
        default="systemd",
        help="the host's cgroup driver (default: systemd; detected at apply time)",
    )
    kubeadm.add_argument(
        "--lb-backend",
        choices=("ipvs", "nftables"),
        help="load-balancer backend when spec.loadBalancer.backend is auto (default: ipvs; "
        "detected at apply time)",
    )
    add_output(kubeadm)
    kubeadm.set_defaults(handler=run_kubeadm)


def run_kubeadm(args: argparse.Namespace, ui: Ui) -> int:
    # Imported here, not at start-up: `sealer --version` and `--help` need none of it.
    from sealer.clusterfile import load as load_clusterfile
    from sealer.kube.kubeadm_config import KubeadmHostFacts, check_patches, render_kubeadm_config

    cluster = load_clusterfile(args.file).cluster
    spec = cluster.spec
    address = args.host or spec.master0
    if address not in spec.all_addresses:
        raise UsageError(
            f"--host {address}: not a host of {args.file}",
            hint="hosts: " + ", ".join(spec.all_addresses),
        )
    check_patches(cluster, source=args.file)
    configured = spec.load_balancer.backend
    backend: LbBackend = args.lb_backend or ("ipvs" if configured == "auto" else configured)
    facts = KubeadmHostFacts(
        hostname=args.hostname,
        ip=args.ip,
        cgroup_driver=args.cgroup_driver,
        lb_backend=backend,
    )
    rendered = render_kubeadm_config(cluster, address, facts)
    if ui.output == "json":
        ui.print_json(
            {
                "host": address,
                "role": rendered.role,
                "apiVersion": rendered.api_version,
                "path": KUBEADM_CONFIG_PATH,
                "documents": list(rendered.documents),
            }
        )
        return 0
    ui.out.file.write(rendered.to_yaml())
    ui.out.file.flush()
    assumed = []
    if args.hostname is None:
        assumed.append("hostname left to kubeadm")
    assumed.append(f"cgroup driver {facts.cgroup_driver}")
    if args.lb_backend is None and configured == "auto":
        assumed.append("load-balancer backend ipvs")
    ui.err.print(
        f"[dim]{escape(address)} ({rendered.role}, {rendered.api_version}); assumed: "
        f"{escape(', '.join(assumed))}; join secrets are placeholders[/dim]"
    )
    return 0
