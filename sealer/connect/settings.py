"""How to reach one host (:class:`HostAccess`) and how the pool behaves (:class:`PoolOptions`).

Both are frozen dataclasses: the lead builds them from the Clusterfile model, the connection layer
only reads them. Secrets are wrapped in :class:`Secret` so that ``repr()``/``str()`` of a
:class:`HostAccess` (in a traceback, a log line, a debug print) never shows them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "HostAccess",
    "PoolOptions",
    "Secret",
]

from sealer.connect.defaults import (
    DEFAULT_CHANNELS_PER_HOST,
    DEFAULT_COMMAND_TIMEOUT,
    DEFAULT_CONCURRENCY,
    DEFAULT_SEALER_KNOWN_HOSTS,
    DEFAULT_UPLOAD_CONCURRENCY,
)


@dataclass(frozen=True)
class Secret:
    """A secret string: shown as ``***`` everywhere, readable only through :meth:`reveal`."""

    _value: str = field(repr=False)

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    def __str__(self) -> str:
        return "***"


@dataclass(frozen=True)
class HostAccess:
    """Everything needed to open an SSH connection to one host.

    ``sudo=None`` means "sudo when the user is not root". ``jump`` is another :class:`HostAccess`
    whose connection tunnels this one (``ProxyJump``). Without ``private_key``, asyncssh's defaults
    apply like ssh's: keys from the SSH agent (``SSH_AUTH_SOCK``, unless ``agent=False``) and
    ``~/.ssh/id_*``. A ``password`` is tried after keys (also for keyboard-interactive).
    """

    address: str
    port: int = 22
    user: str = "root"
    password: Secret | None = None
    private_key: Path | None = None
    passphrase: Secret | None = None
    sudo: bool | None = None
    jump: HostAccess | None = None
    connect_timeout: float = 10.0
    keepalive_interval: float = 15.0
    keepalive_count_max: int = 3
    agent: bool = True

    @property
    def use_sudo(self) -> bool:
        return self.sudo if self.sudo is not None else self.user != "root"

    @property
    def label(self) -> str:
        """``address`` (``address:port`` when the port is not 22): how errors name the host."""
        return self.address if self.port == 22 else f"{self.address}:{self.port}"

    def secrets(self) -> list[str]:
        """The secret strings of this host and its jump hosts (for log redaction)."""
        found = [s.reveal() for s in (self.password, self.passphrase) if s is not None]
        if self.jump is not None:
            found.extend(self.jump.secrets())
        return found


@dataclass(frozen=True)
class PoolOptions:
    """Behaviour of :class:`sealer.connect.Connections` as a whole.

    ``known_hosts``: files checked for host keys (missing files are skipped); the pinned file is
    always checked too. ``accept_new_host_keys``: pin keys of hosts found in none of them into
    ``pinned_known_hosts``. A host whose key differs from a known one is always refused.
    ``connect_retries``: extra attempts after a failed TCP connect/handshake (never after an
    authentication or host-key failure), waiting ``retry_backoff * 2**n`` seconds before each.
    """

    concurrency: int = DEFAULT_CONCURRENCY
    upload_concurrency: int = DEFAULT_UPLOAD_CONCURRENCY
    channels_per_host: int = DEFAULT_CHANNELS_PER_HOST
    known_hosts: tuple[Path, ...] = (Path("~/.ssh/known_hosts"),)
    pinned_known_hosts: Path = DEFAULT_SEALER_KNOWN_HOSTS
    accept_new_host_keys: bool = False
    connect_retries: int = 2
    retry_backoff: float = 0.5
    command_timeout: float = DEFAULT_COMMAND_TIMEOUT
    #: Bytes per second of each SFTP upload (``--upload-limit``; None: as fast as it goes).
    upload_limit: int | None = None

    def __post_init__(self) -> None:
        for name in ("concurrency", "upload_concurrency", "channels_per_host"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")
        if self.connect_retries < 0:
            raise ValueError("connect_retries must not be negative")
