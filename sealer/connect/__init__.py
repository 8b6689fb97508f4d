"""SSH connections: one per host, argv quoting in one place, errors translated at the boundary."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sealer.lazy import lazy_exports

if TYPE_CHECKING:
    from sealer.connect.command import builtin_argv, render, sudo_argv
    from sealer.connect.defaults import (
        DEFAULT_CHANNELS_PER_HOST,
        DEFAULT_CONCURRENCY,
        DEFAULT_SEALER_KNOWN_HOSTS,
        DEFAULT_UPLOAD_CONCURRENCY,
    )
    from sealer.connect.errors import CommandTimedOut, TransferFailed
    from sealer.connect.hostkeys import known_hosts_pattern
    from sealer.connect.pool import Connections, Result
    from sealer.connect.record import (
        REDACTED,
        CommandRecord,
        JsonlRunLog,
        MemoryRecorder,
        Recorder,
        Redactor,
    )
    from sealer.connect.remote import Remote
    from sealer.connect.settings import HostAccess, PoolOptions, Secret

__all__ = [
    "DEFAULT_CHANNELS_PER_HOST",
    "DEFAULT_CONCURRENCY",
    "DEFAULT_SEALER_KNOWN_HOSTS",
    "DEFAULT_UPLOAD_CONCURRENCY",
    "REDACTED",
    "CommandRecord",
    "CommandTimedOut",
    "Connections",
    "HostAccess",
    "JsonlRunLog",
    "MemoryRecorder",
    "PoolOptions",
    "Recorder",
    "Redactor",
    "Remote",
    "Result",
    "Secret",
    "TransferFailed",
    "builtin_argv",
    "known_hosts_pattern",
    "render",
    "sudo_argv",
]

# Imported on first use (sealer/lazy.py).
__getattr__ = lazy_exports(
    __name__,
    {
        "builtin_argv": "sealer.connect.command",
        "render": "sealer.connect.command",
        "sudo_argv": "sealer.connect.command",
        "CommandTimedOut": "sealer.connect.errors",
        "TransferFailed": "sealer.connect.errors",
        "known_hosts_pattern": "sealer.connect.hostkeys",
        "Connections": "sealer.connect.pool",
        "Result": "sealer.connect.pool",
        "REDACTED": "sealer.connect.record",
        "CommandRecord": "sealer.connect.record",
        "JsonlRunLog": "sealer.connect.record",
        "MemoryRecorder": "sealer.connect.record",
        "Recorder": "sealer.connect.record",
        "Redactor": "sealer.connect.record",
        "Remote": "sealer.connect.remote",
        "DEFAULT_CHANNELS_PER_HOST": "sealer.connect.defaults",
        "DEFAULT_CONCURRENCY": "sealer.connect.defaults",
        "DEFAULT_SEALER_KNOWN_HOSTS": "sealer.connect.defaults",
        "DEFAULT_UPLOAD_CONCURRENCY": "sealer.connect.defaults",
        "HostAccess": "sealer.connect.settings",
        "PoolOptions": "sealer.connect.settings",
        "Secret": "sealer.connect.settings",
    },
)
