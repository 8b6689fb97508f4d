"""A real OpenSSH server on 127.0.0.1 for tests (imported by the conftests of connect and facts)."""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

SSHD = "/usr/sbin/sshd"


def keygen(path: Path, passphrase: str = "", kind: str = "ed25519") -> Path:
    subprocess.run(
        ["ssh-keygen", "-q", "-t", kind, "-N", passphrase, "-C", "sealer-test", "-f", str(path)],
        check=True,
    )
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Sshd:
    """A running ``sshd -D`` with its own host key, config, log and authorized_keys."""

    directory: Path
    port: int
    host_key: Path
    log: Path
    process: subprocess.Popen[bytes]

    @property
    def host_public_key(self) -> str:
        parts = self.host_key.with_suffix(".pub").read_text().split()
        return f"{parts[0]} {parts[1]}"

    def known_hosts_line(self) -> str:
        return f"[127.0.0.1]:{self.port} {self.host_public_key}\n"

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def connections(self) -> int:
        """TCP connections sshd accepted so far."""
        return self.log_text().count("Connection from ")


def _config(directory: Path, port: int, host_key: Path, authorized: Path, extra: str) -> str:
    return (
        f"Port {port}\n"
        "ListenAddress 127.0.0.1\n"
        f"HostKey {host_key}\n"
        f"PidFile {directory / 'sshd.pid'}\n"
        f"AuthorizedKeysFile {authorized}\n"
        "UsePAM no\n"
        "StrictModes no\n"
        "PermitRootLogin prohibit-password\n"
        "PubkeyAuthentication yes\n"
        "PasswordAuthentication yes\n"
        "KbdInteractiveAuthentication no\n"
        "AllowTcpForwarding yes\n"
        "MaxStartups 100:30:200\n"
        "MaxSessions 10\n"
        "Subsystem sftp internal-sftp\n"
        "LogLevel VERBOSE\n"
        f"{extra}"
    )


@contextlib.contextmanager
def running_sshd(authorized_keys: list[Path], extra_config: str = "") -> Iterator[Sshd]:
    """Start sshd on a free 127.0.0.1 port; stop it and remove its files afterwards."""
    # sshd refuses to start without its privilege separation directory (normally made by the
    # service unit). It is a system runtime directory shared with any other sshd on the machine,
    # so it is created when missing and deliberately left in place.
    os.makedirs("/run/sshd", mode=0o755, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="sealer-sshd-") as tmp:
        directory = Path(tmp)
        directory.chmod(0o755)  # sshd reads AuthorizedKeysFile as the logging-in user
        host_key = keygen(directory / "host_key")
        authorized = directory / "authorized_keys"
        authorized.write_text("".join(p.with_suffix(".pub").read_text() for p in authorized_keys))
        authorized.chmod(0o644)
        log = directory / "sshd.log"
        for _attempt in range(5):
            port = free_port()
            config = directory / "sshd_config"
            config.write_text(_config(directory, port, host_key, authorized, extra_config))
            log.write_text("")
            process = subprocess.Popen(
                [SSHD, "-D", "-f", str(config), "-E", str(log)],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            if _wait_listening(process, log):
                break
            process.kill()
            process.wait()
        else:  # pragma: no cover - environment problem
            raise RuntimeError(f"sshd did not start: {log.read_text()}")
        try:
            yield Sshd(directory, port, host_key, log, process)
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:  # pragma: no cover
                process.kill()
                process.wait()


def _wait_listening(process: subprocess.Popen[bytes], log: Path, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        if "Server listening" in log.read_text(errors="replace"):
            return True
        time.sleep(0.025)
    return False


@dataclass
class TempUser:
    name: str
    password: str
    home: Path


@contextlib.contextmanager
def temp_user(sudoers: bool = False) -> Iterator[TempUser]:
    """A system user with a known password (and passwordless sudo when asked), removed after."""
    name = f"sealert{secrets.token_hex(3)}"
    password = f"pw-{secrets.token_hex(8)}"
    subprocess.run(["useradd", "-m", "-s", "/bin/sh", name], check=True)
    sudoers_file = Path(f"/etc/sudoers.d/sealer-test-{name}")
    try:
        subprocess.run(["chpasswd"], input=f"{name}:{password}\n".encode(), check=True)
        if sudoers:
            sudoers_file.write_text(f"{name} ALL=(ALL) NOPASSWD: ALL\n")
            sudoers_file.chmod(0o440)
        yield TempUser(name, password, Path("/home") / name)
    finally:
        sudoers_file.unlink(missing_ok=True)
        # sshd session processes of the user may still be exiting; userdel refuses then.
        for _ in range(50):
            done = subprocess.run(["userdel", "-r", name], capture_output=True)
            if done.returncode in (0, 6):  # 6: no such user
                break
            time.sleep(0.1)
