"""Options shared by several commands.

Light on purpose: every command registers its options at start-up, so this module imports only
constants (``sealer --version`` and ``--help`` load no SSH, no pydantic; docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from sealer.connect.defaults import (
    DEFAULT_CONCURRENCY,
    DEFAULT_SEALER_KNOWN_HOSTS,
    DEFAULT_UPLOAD_CONCURRENCY,
)
from sealer.lock.timing import EXPIRY_SECONDS
from sealer.preflight_names import PREFLIGHT_CHECKS

__all__ = [
    "add_break_lock",
    "add_clusterfile",
    "add_connection_options",
    "add_ignore_preflight",
    "add_output",
    "add_upload_limit",
    "add_verbose",
]


def add_output(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--output",
        "-O",
        choices=("text", "json"),
        default="text",
        help="output format (default: text)",
    )


def add_clusterfile(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-f", "--file", dest="file", required=True, metavar="FILE", help="the Clusterfile"
    )


def add_connection_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("SSH")
    group.add_argument(
        "--concurrency",
        type=int,
        default=DEFAULT_CONCURRENCY,
        metavar="N",
        help=f"commands in flight over all hosts (default {DEFAULT_CONCURRENCY})",
    )
    group.add_argument(
        "--upload-concurrency",
        type=int,
        default=DEFAULT_UPLOAD_CONCURRENCY,
        metavar="N",
        help=f"package uploads at once (default {DEFAULT_UPLOAD_CONCURRENCY})",
    )
    group.add_argument(
        "--known-hosts",
        action="append",
        type=Path,
        metavar="FILE",
        help="known_hosts file to check host keys against (repeatable; default ~/.ssh/known_hosts)",
    )
    group.add_argument(
        "--accept-new-host-keys",
        action="store_true",
        help=f"pin the keys of hosts seen for the first time in {DEFAULT_SEALER_KNOWN_HOSTS}; "
        "a changed key is always refused",
    )
    group.add_argument(
        "--connect-timeout", type=float, default=10.0, metavar="SECONDS", help="per host"
    )


def add_verbose(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--verbose",
        "-v",
        action="store_true",
        help="the live view shows every step (default: one row per step kind with counts, "
        "the slowest hosts and the failures; the run log always has every step)",
    )


def add_upload_limit(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--upload-limit",
        metavar="RATE",
        help="bytes per second on each link the package travels (the workstation's uploads and "
        "each host-to-host relay copy), K/M/G 1024-based, e.g. 20M (default: no limit)",
    )


def add_break_lock(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--break-lock",
        action="store_true",
        help="take over the run lock of another sealer run at once (when you know it is dead; "
        f"a lock without heartbeat for {EXPIRY_SECONDS:.0f}s is taken over anyway)",
    )


def add_ignore_preflight(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--ignore-preflight",
        action="append",
        default=[],
        choices=("all", *PREFLIGHT_CHECKS),
        metavar="NAME",
        help="skip a preflight check (repeatable; `all` skips every one): "
        + ", ".join(PREFLIGHT_CHECKS),
    )
