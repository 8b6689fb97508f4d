"""Options shared by several commands."""

from __future__ import annotations

import argparse

__all__ = ["add_clusterfile", "add_output"]


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
