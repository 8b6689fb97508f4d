"""The connection layer's defaults, as plain constants.

Kept apart from :mod:`sealer.connect.settings` so that the command line can show them in
``--help`` without importing dataclasses or anything else at start-up (docs/benchmarks.md,
Start-up).
"""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "DEFAULT_CHANNELS_PER_HOST",
    "DEFAULT_COMMAND_TIMEOUT",
    "DEFAULT_CONCURRENCY",
    "DEFAULT_SEALER_KNOWN_HOSTS",
    "DEFAULT_UPLOAD_CONCURRENCY",
    "REMOTE_LOCALE",
]

#: Commands in flight over all hosts at once. Sized for hundreds of hosts: one asyncssh
#: connection costs the workstation a few ms of CPU for the handshake, then almost nothing.
DEFAULT_CONCURRENCY = 64
#: SFTP uploads in flight at once: the workstation link is shared by all of them.
DEFAULT_UPLOAD_CONCURRENCY = 8
#: Sessions open at once on one connection. sshd allows 10 (MaxSessions), but it frees a slot
#: only after reaping the session's child; under bursts of short commands on a loaded machine
#: 8 ran out of slots (refused opens are now retried, see pool.py); 4 leaves headroom.
DEFAULT_CHANNELS_PER_HOST = 4
#: Seconds any remote command may take unless its caller gives its own bound (facts 60-120 s,
#: kubeadm 900 s, the package's init.sh 1800 s): a hung command never hangs a run.
DEFAULT_COMMAND_TIMEOUT = 300.0
#: Every remote command runs with LC_ALL=C, so that what sealer parses (stat, etcdctl,
#: kubeadm messages) never depends on the host's language.
REMOTE_LOCALE = "C"
#: Where ``--accept-new-host-keys`` pins first-seen host keys unless a path is given.
DEFAULT_SEALER_KNOWN_HOSTS = Path("~/.config/sealer/known_hosts")
