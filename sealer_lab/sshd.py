"""The OpenSSH side of a lab host: keys, the sshd configuration, password hashes.

Each host runs the system's ``/usr/sbin/sshd`` with its own ``/etc/ssh/sshd_config`` and host key
(both in the host's private /etc), ``UsePAM no`` (password logins are checked against the host's
private /etc/shadow), and limits high enough for 50 concurrent sessions from one client.
"""

from __future__ import annotations

import os
from pathlib import Path

from sealer_lab.local import run

__all__ = [
    "SSHD_ARGV",
    "generate_key",
    "hash_password",
    "render_sshd_config",
]

SSHD_ARGV = ["/usr/sbin/sshd", "-E", "/var/log/sshd.log"]


def generate_key(path: Path, comment: str) -> None:
    """An ed25519 key pair at ``path`` (and ``path``.pub), unless it already exists."""
    if path.exists() and path.with_name(path.name + ".pub").exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    for stale in (path, path.with_name(path.name + ".pub")):
        stale.unlink(missing_ok=True)
    run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(path)])
    os.chmod(path, 0o600)


def hash_password(password: str) -> str:
    """A SHA-512 crypt hash for /etc/shadow (the password goes over stdin, never argv)."""
    return run(["openssl", "passwd", "-6", "-stdin"], input=password + "\n").stdout.strip()


def render_sshd_config(*, port: int, password_login: bool) -> str:
    lines = [
        "# Written by sealer lab. The host's own sshd; see docs/lab.md.",
        f"Port {port}",
        "ListenAddress 0.0.0.0",
        "HostKey /etc/ssh/ssh_host_ed25519_key",
        "PidFile /run/sshd.pid",
        "UsePAM no",
        f"PermitRootLogin {'yes' if password_login else 'prohibit-password'}",
        "PubkeyAuthentication yes",
        "AuthorizedKeysFile .ssh/authorized_keys",
        f"PasswordAuthentication {'yes' if password_login else 'no'}",
        "KbdInteractiveAuthentication no",
        "PermitEmptyPasswords no",
        "MaxSessions 64",
        "MaxStartups 100:30:200",
        "MaxAuthTries 6",
        "LoginGraceTime 30",
        "UseDNS no",
        "PrintMotd no",
        "PrintLastLog no",
        "X11Forwarding no",
        "AcceptEnv LANG LC_*",
        "LogLevel INFO",
        "Subsystem sftp internal-sftp",
    ]
    return "\n".join(lines) + "\n"
