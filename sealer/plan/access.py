"""How to reach each host: the Clusterfile's SSH settings as connection-layer HostAccess."""

from __future__ import annotations

from pathlib import Path

from sealer.connect.settings import HostAccess, Secret
from sealer.spec.model import Cluster, JumpHost, SshConfig

__all__ = ["host_access", "jump_access"]


def _secret(value: object) -> Secret | None:
    reveal = getattr(value, "get_secret_value", None)
    return None if reveal is None else Secret(str(reveal()))


def _key(path: str | None) -> Path | None:
    return None if path is None else Path(path).expanduser()


def jump_access(jump: JumpHost, ssh: SshConfig) -> HostAccess:
    """The bastion, with its own credentials only; without any it is offered the host's key
    and agent (public-key authentication shows the bastion a signature, never the key), never
    the host's password (docs/clusterfile.md)."""
    own = jump.password is not None or jump.private_key is not None
    return HostAccess(
        address=jump.host,
        port=jump.port,
        user=jump.user,
        password=_secret(jump.password) if own else None,
        private_key=_key(jump.private_key) if own else _key(ssh.private_key),
        passphrase=_secret(jump.passphrase) if own else _secret(ssh.passphrase),
        agent=ssh.agent,
    )


def host_access(cluster: Cluster, address: str, *, connect_timeout: float = 10.0) -> HostAccess:
    """Connection settings for ``address`` (per-host overrides applied).

    Hosts no longer in the Clusterfile (being removed) get the cluster-wide settings.
    """
    ssh = cluster.spec.ssh_for(address)
    return HostAccess(
        address=address,
        port=ssh.port,
        user=ssh.user,
        password=_secret(ssh.password),
        private_key=_key(ssh.private_key),
        passphrase=_secret(ssh.passphrase),
        sudo=ssh.sudo or ssh.user != "root",
        jump=None if ssh.jump_host is None else jump_access(ssh.jump_host, ssh),
        agent=ssh.agent,
        connect_timeout=connect_timeout,
    )
