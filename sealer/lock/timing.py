"""The run lock's timing, as plain constants (the command line shows them at start-up)."""

from __future__ import annotations

from typing import Final

__all__ = ["EXPIRY_SECONDS", "HEARTBEAT_SECONDS"]

#: A lock whose file was not touched for this long (host clock) belongs to a dead run.
EXPIRY_SECONDS: Final = 90.0
#: How often a live run touches its lock files.
HEARTBEAT_SECONDS: Final = 10.0
