"""Relay distribution of the package: hosts that hold a verified copy serve it to others.

:mod:`sealer.relay.program` is the program that runs on the hosts (stdlib only, run as
``python3 -c SOURCE``); this package gives its source and the argv of each of its modes, and
parses what it prints. Which host copies from which is the planner's
(:mod:`sealer.plan.relay`); the distribute step runs the copies (:mod:`sealer.steps.distribute`).
"""

from __future__ import annotations

from sealer.relay.client import (
    EXIT_CORRUPT,
    EXIT_UNREACHABLE,
    FetchArgs,
    ServeArgs,
    fetch_argv,
    parse_rate,
    program_source,
    serve_argv,
    stop_argv,
    url_for,
)

__all__ = [
    "EXIT_CORRUPT",
    "EXIT_UNREACHABLE",
    "FetchArgs",
    "ServeArgs",
    "fetch_argv",
    "parse_rate",
    "program_source",
    "serve_argv",
    "stop_argv",
    "url_for",
]
