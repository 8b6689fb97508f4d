"""SSH connections: one per host, argv quoting in one place, errors translated at the boundary."""

from sealer.connect.command import builtin_argv, render, sudo_argv
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
from sealer.connect.settings import (
    DEFAULT_CHANNELS_PER_HOST,
    DEFAULT_CONCURRENCY,
    DEFAULT_SEALER_KNOWN_HOSTS,
    DEFAULT_UPLOAD_CONCURRENCY,
    HostAccess,
    PoolOptions,
    Secret,
)

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
