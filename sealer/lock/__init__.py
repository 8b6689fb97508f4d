"""The run lock: one sealer run at a time changes a cluster (see docs/operations.md).

:mod:`sealer.lock.record` holds the pure parts (the holder record, what a lock file's facts
mean, the messages); :mod:`sealer.lock.lease` takes, renews and gives back the lock over SSH.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sealer.lazy import lazy_exports

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

# Imported on first use (sealer/lazy.py).
__getattr__ = lazy_exports(
    __name__,
    {
        "RunLock": "sealer.lock.lease",
        "lock_masters": "sealer.lock.lease",
        "probe": "sealer.lock.lease",
        "seen_locks": "sealer.lock.lease",
        "EXPIRY_SECONDS": "sealer.lock.timing",
        "HEARTBEAT_SECONDS": "sealer.lock.timing",
        "Holder": "sealer.lock.record",
        "LockState": "sealer.lock.record",
        "Verdict": "sealer.lock.record",
    },
)
