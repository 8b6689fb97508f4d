"""The names of the preflight checks, apart from the Clusterfile model so that the command line
registers ``--ignore-preflight`` without importing pydantic (start-up, docs/benchmarks.md)."""

from __future__ import annotations

from typing import Literal, get_args

__all__ = ["PREFLIGHT_CHECKS", "PreflightCheck"]

#: What ``spec.preflight.ignore`` accepts: a check's name, or ``all``.
PreflightCheck = Literal[
    "all",
    "swap",
    "kernel-modules",
    "sysctls",
    "ports",
    "hostname",
    "machine-id",
    "clock",
    "disk",
    "cgroup",
    "runtime",
    "commands",
    "os",
    "arch",
]

#: The preflight checks, by the names ``spec.preflight.ignore`` and ``--ignore-preflight`` take
#: (sealer/plan/preflight.py runs them; docs/clusterfile.md says what each reads).
PREFLIGHT_CHECKS: tuple[str, ...] = get_args(PreflightCheck)[1:]
