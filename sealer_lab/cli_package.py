"""``sealer lab package``: build the lab's Kubernetes offline package (docs/lab-emulation.md).

Hooked under ``sealer lab`` through :func:`register_lab` (append it to
``sealer_lab.cli.LAB_SUBCOMMANDS``).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from sealer.cli.options import add_output
from sealer.cli.render import Ui

__all__ = ["register_lab", "register_lab_subcommand"]


def _handle(args: argparse.Namespace, ui: Ui) -> int:
    from sealer_lab.package import build_package, package_name, sha256  # not at start-up

    dest = Path(args.out) if args.out else Path.cwd() / package_name(args.version)
    path = build_package(
        args.version,
        dest,
        without_images=tuple(args.without_image),
        broken_runtime=args.broken_runtime,
    )
    digest = sha256(path)
    if ui.output == "json":
        ui.print_json(
            {
                "path": str(path),
                "version": args.version,
                "sha256": digest,
                "size": path.stat().st_size,
            }
        )
    else:
        ui.out.print(f"{path}  sha256:{digest}  ({path.stat().st_size} bytes)")
    return 0


def register_lab(lab_subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = lab_subparsers.add_parser(
        "package",
        help="build the emulated Kubernetes offline package (kube<version>.tar.gz)",
        description=(
            "Build the lab's offline package: the real layout (bin/ conf/ images/ manifests/ "
            "shell/ Metadata) with emulated kubeadm, kubelet, containerd and crictl, the "
            "network add-ons' manifests and the machine's real kubectl."
        ),
    )
    parser.add_argument("--version", default="v1.29.3", help="Kubernetes version (v1.23-v1.33)")
    parser.add_argument("-o", "--out", default="", help="output file or directory")
    parser.add_argument(
        "--without-image",
        action="append",
        default=[],
        metavar="NAME",
        help=(
            "leave this image out of the package (a reference, or a repository name such as "
            "coredns); a broken package for tests. Repeatable"
        ),
    )
    parser.add_argument(
        "--broken-runtime",
        action="store_true",
        help=(
            "ship a containerd configuration without the CRI plugin (the runtime starts but "
            "answers no CRI call); a broken package for tests"
        ),
    )
    add_output(parser)
    parser.set_defaults(handler=_handle)


register_lab_subcommand = register_lab
