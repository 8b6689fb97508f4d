"""The defaults of ``sealer certs``, apart so that the command line registers its flags without
importing the SSH and PKI code (start-up, docs/benchmarks.md)."""

from __future__ import annotations

__all__ = ["READY_TIMEOUT", "WARN_DAYS"]

WARN_DAYS = 30
"""`certs check` warns about certificates with fewer days left."""

READY_TIMEOUT = 300.0
"""Seconds one master may take to be healthy again after its renewal."""
