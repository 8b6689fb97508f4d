"""The run lock: one sealer run at a time changes a cluster (see docs/operations.md).

:mod:`sealer.lock.record` holds the pure parts (the holder record, what a lock file's facts
mean, the messages); :mod:`sealer.lock.lease` takes, renews and gives back the lock over SSH.
"""

from __future__ import annotations

import importlib
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sealer.lock.lease import RunLock, lock_masters, probe, seen_locks
    from sealer.lock.record import EXPIRY_SECONDS, HEARTBEAT_SECONDS, Holder, LockState, Verdict

__all__ = [
    "EXPIRY_SECONDS",
    "HEARTBEAT_SECONDS",
    "Holder",
    "LockState",
    "RunLock",
    "Verdict",
    "lock_masters",
    "probe",
    "seen_locks",
]

# Imported on first use (PEP 562), so that a command that needs one light module of this
# package does not pay for the others (docs/benchmarks.md, start-up).
_HOMES = MappingProxyType(
    {
        "RunLock": "sealer.lock.lease",
        "lock_masters": "sealer.lock.lease",
        "probe": "sealer.lock.lease",
        "seen_locks": "sealer.lock.lease",
        "EXPIRY_SECONDS": "sealer.lock.record",
        "HEARTBEAT_SECONDS": "sealer.lock.record",
        "Holder": "sealer.lock.record",
        "LockState": "sealer.lock.record",
        "Verdict": "sealer.lock.record",
    }
)


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(home), name)
