from __future__ import annotations

from pathlib import Path

import pytest

from sealer.connect import Connections, HostAccess, PoolOptions, Secret
from sealer.errors import ConnectError
from tests.connect.conftest import PASSPHRASE, Keys
from tests.connect.sshd import Sshd, TempUser, free_port, keygen, running_sshd

# Real sshd processes and temporary system users: needs root.
pytestmark = pytest.mark.lab


async def test_key_with_passphrase(sshd: Sshd, keys: Keys, options: PoolOptions) -> None:
    host = HostAccess(
        "127.0.0.1",
        sshd.port,
        private_key=keys.encrypted,
        passphrase=Secret(PASSPHRASE),
        agent=False,
    )
    async with Connections(options) as conns:
        assert (await conns.run(host, ["id", "-un"])).stdout == "root\n"


async def test_wrong_or_missing_passphrase(sshd: Sshd, keys: Keys, options: PoolOptions) -> None:
    wrong = HostAccess(
        "127.0.0.1", sshd.port, private_key=keys.encrypted, passphrase=Secret("nope-nope")
    )
    missing = HostAccess("127.0.0.1", sshd.port, private_key=keys.encrypted)
    async with Connections(options) as conns:
        with pytest.raises(ConnectError, match="cannot load private key") as caught:
            await conns.run(wrong, ["true"])
        assert caught.value.hint == "check the passphrase"
        assert "nope-nope" not in str(caught.value)
        with pytest.raises(ConnectError, match="may need a passphrase"):
            await conns.run(missing, ["true"])


async def test_password_auth(sshd: Sshd, user: TempUser, options: PoolOptions) -> None:
    host = HostAccess(
        "127.0.0.1",
        sshd.port,
        user=user.name,
        password=Secret(user.password),
        sudo=False,
        agent=False,
    )
    async with Connections(options) as conns:
        assert (await conns.run(host, ["id", "-un"])).stdout == f"{user.name}\n"


async def test_wrong_password_is_a_clear_connect_error(
    sshd: Sshd, user: TempUser, options: PoolOptions
) -> None:
    host = HostAccess(
        "127.0.0.1", sshd.port, user=user.name, password=Secret("wrong-password"), agent=False
    )
    async with Connections(options) as conns:
        with pytest.raises(ConnectError) as caught:
            await conns.run(host, ["true"])
        # the failure is remembered: the next command fails at once with the same error
        with pytest.raises(ConnectError) as again:
            await conns.run(host, ["true"])
    message = str(caught.value)
    assert message.startswith(f"127.0.0.1:{sshd.port}: authentication failed for user {user.name}")
    assert "tried: default keys, password" in message
    assert "wrong-password" not in message
    assert again.value is caught.value


async def test_unknown_key_file(sshd: Sshd, options: PoolOptions, tmp_path: Path) -> None:
    host = HostAccess("127.0.0.1", sshd.port, private_key=tmp_path / "nothing")
    async with Connections(options) as conns:
        with pytest.raises(ConnectError, match="does not exist"):
            await conns.run(host, ["true"])


async def test_key_not_authorized(sshd: Sshd, keys: Keys, options: PoolOptions) -> None:
    host = HostAccess("127.0.0.1", sshd.port, private_key=keys.stranger, agent=False)
    async with Connections(options) as conns:
        with pytest.raises(ConnectError, match=rf"tried: key {keys.stranger}\)"):
            await conns.run(host, ["true"])


async def test_refused_port(keys: Keys, tmp_path: Path) -> None:
    port = free_port()
    host = HostAccess("127.0.0.1", port, private_key=keys.client, agent=False)
    options = PoolOptions(
        known_hosts=(), pinned_known_hosts=tmp_path / "p", connect_retries=1, retry_backoff=0.01
    )
    async with Connections(options) as conns:
        with pytest.raises(ConnectError) as caught:
            await conns.run(host, ["true"])
    assert str(caught.value) == (
        f"127.0.0.1:{port}: connection to 127.0.0.1:{port} refused: is sshd running on that "
        "port? (2 attempts)"
    )


async def test_unknown_host_key_is_refused(root: HostAccess, tmp_path: Path) -> None:
    options = PoolOptions(known_hosts=(tmp_path / "empty",), pinned_known_hosts=tmp_path / "pin")
    async with Connections(options) as conns:
        with pytest.raises(ConnectError, match="is not in known_hosts") as caught:
            await conns.run(root, ["true"])
    assert "--accept-new-host-keys" in (caught.value.hint or "")
    assert not (tmp_path / "pin").exists()


async def test_accept_new_pins_the_key_and_later_runs_use_it(
    sshd: Sshd, root: HostAccess, tmp_path: Path
) -> None:
    pin = tmp_path / "sealer" / "known_hosts"
    accepting = PoolOptions(known_hosts=(), pinned_known_hosts=pin, accept_new_host_keys=True)
    async with Connections(accepting) as conns:
        await conns.run(root, ["true"])
    assert pin.read_text() == sshd.known_hosts_line()
    assert pin.stat().st_mode & 0o777 == 0o600
    strict = PoolOptions(known_hosts=(), pinned_known_hosts=pin)
    async with Connections(strict) as conns:
        assert (await conns.run(root, ["echo", "again"])).stdout == "again\n"
    assert pin.read_text() == sshd.known_hosts_line()  # nothing appended the second time


async def test_changed_host_key_is_refused_even_with_accept_new(keys: Keys, tmp_path: Path) -> None:
    other = keygen(tmp_path / "other_host_key")
    other_pub = " ".join(other.with_suffix(".pub").read_text().split()[:2])
    with running_sshd([keys.client]) as server:
        known = tmp_path / "known_hosts"
        known.write_text(f"[127.0.0.1]:{server.port} {other_pub}\n")
        options = PoolOptions(
            known_hosts=(known,), pinned_known_hosts=tmp_path / "pin", accept_new_host_keys=True
        )
        host = HostAccess("127.0.0.1", server.port, private_key=keys.client, agent=False)
        async with Connections(options) as conns:
            with pytest.raises(ConnectError, match="host key CHANGED") as caught:
                await conns.run(host, ["true"])
        presented = _fingerprint(server.host_key)
    assert _fingerprint(other) in str(caught.value)
    assert presented in str(caught.value)
    assert not (tmp_path / "pin").exists()


def _fingerprint(private_key: Path) -> str:
    import subprocess

    out = subprocess.run(
        ["ssh-keygen", "-l", "-E", "sha256", "-f", str(private_key.with_suffix(".pub"))],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return out.split()[1]


async def test_silent_port_times_out(keys: Keys, tmp_path: Path) -> None:
    # A TCP listener that never speaks SSH: the handshake cannot finish.
    import socket

    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        host = HostAccess(
            "127.0.0.1", port, private_key=keys.client, agent=False, connect_timeout=0.5
        )
        options = PoolOptions(known_hosts=(), pinned_known_hosts=tmp_path / "p", connect_retries=0)
        async with Connections(options) as conns:
            with pytest.raises(ConnectError) as caught:
                await conns.run(host, ["true"])
    assert str(caught.value) == (
        f"127.0.0.1:{port}: no SSH connection to 127.0.0.1:{port} within 0.5 s: the host is "
        "down, unreachable or filtered"
    )
