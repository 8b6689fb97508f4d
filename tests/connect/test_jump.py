from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from sealer.connect import Connections, HostAccess, PoolOptions
from sealer.errors import ConnectError
from tests.connect.conftest import Keys
from tests.connect.sshd import free_port, running_sshd

# Real sshd processes and temporary system users: needs root.
pytestmark = pytest.mark.lab


async def test_jump_host_tunnels_the_connection(keys: Keys, tmp_path: Path) -> None:
    with running_sshd([keys.client]) as jump, running_sshd([keys.client]) as target:
        known = tmp_path / "known_hosts"
        known.write_text(jump.known_hosts_line() + target.known_hosts_line())
        options = PoolOptions(known_hosts=(known,), pinned_known_hosts=tmp_path / "pin")
        bastion = HostAccess("127.0.0.1", jump.port, private_key=keys.client, agent=False)
        host = HostAccess(
            "127.0.0.1", target.port, private_key=keys.client, agent=False, jump=bastion
        )
        async with Connections(options) as conns:
            for i in range(5):
                assert (await conns.run(host, ["echo", str(i)])).stdout == f"{i}\n"
            assert conns.opened == 2
            # The target's client socket belongs to the jump host's sshd (it forwarded the
            # connection), not to this Python process.
            source_port = re.findall(r"Connection from 127.0.0.1 port (\d+)", target.log_text())
            owner = subprocess.run(
                ["ss", "-Htnp", "state", "established", f"( sport = :{source_port[0]} )"],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
        assert '"sshd"' in owner and f"pid={os.getpid()}," not in owner
        assert jump.connections() == 1 and target.connections() == 1


async def test_unreachable_target_behind_jump(keys: Keys, tmp_path: Path) -> None:
    with running_sshd([keys.client]) as jump:
        known = tmp_path / "known_hosts"
        known.write_text(jump.known_hosts_line())
        options = PoolOptions(
            known_hosts=(known,), pinned_known_hosts=tmp_path / "pin", connect_retries=0
        )
        bastion = HostAccess("127.0.0.1", jump.port, private_key=keys.client, agent=False)
        port = free_port()
        host = HostAccess("127.0.0.1", port, private_key=keys.client, jump=bastion)
        async with Connections(options) as conns:
            with pytest.raises(ConnectError) as caught:
                await conns.run(host, ["true"])
    assert f"127.0.0.1:{port} via jump host 127.0.0.1:{jump.port}" in str(caught.value)
