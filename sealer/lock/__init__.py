"""The run lock: one sealer run at a time changes a cluster (see docs/operations.md).

:mod:`sealer.lock.record` holds the pure parts (the holder record, what a lock file's facts
mean, the messages); :mod:`sealer.lock.lease` takes, renews and gives back the lock over SSH.
"""

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
