from __future__ import annotations

import hashlib
import socket
from pathlib import Path

import pytest

from sealer.connect import Connections, HostAccess, PoolOptions, Secret
from sealer.errors import CommandFailed
from sealer.facts import (
    Fact,
    FactError,
    collect,
    file_sha256,
    gather_host_facts,
    require_ok,
)
from tests.connect.sshd import Sshd, free_port, temp_user

# Real sshd processes and temporary system users: needs root.
pytestmark = pytest.mark.lab


async def test_gather_reachable_and_unreachable(
    root: HostAccess, options: PoolOptions, client_key: Path
) -> None:
    down = HostAccess("127.0.0.1", free_port(), private_key=client_key, agent=False)
    async with Connections(options) as conns:
        facts = await gather_host_facts(conns, [down, root])
        assert conns.opened == 1
    assert list(facts) == [down, root]
    unreachable = facts[down]
    assert not unreachable.reachable and unreachable.hostname is None
    assert unreachable.error is not None and "refused" in str(unreachable.error)
    here = facts[root]
    assert here.reachable and here.error is None
    assert here.hostname == socket.gethostname()
    assert here.os is not None and here.os.id == "debian"
    assert here.arch is not None and here.arch.machine == "x86_64"
    assert here.python3 is not None and here.python3.endswith("python3")
    # this machine has a real kubectl but no kubeadm/kubelet and never joined a cluster
    assert here.kubectl is not None and here.kubectl.startswith("v1.")
    assert (here.kubeadm, here.kubelet) == (None, None)
    assert here.kube is not None and here.kube.role is None
    assert here.hosts_block is None or isinstance(here.hosts_block, tuple)


async def test_sha256_fact(root: HostAccess, options: PoolOptions, tmp_path: Path) -> None:
    data = tmp_path / "kube.tar.gz"
    data.write_bytes(b"\x1f\x8b" * 1000)
    async with Connections(options) as conns:
        digest = await collect(conns, root, file_sha256(str(data)))
        missing = await collect(conns, root, file_sha256(str(tmp_path / "nope")))
    assert digest == hashlib.sha256(data.read_bytes()).hexdigest()
    assert missing is None


async def test_parse_failures_name_the_host_and_fact(
    root: HostAccess, options: PoolOptions
) -> None:
    def strict(result: object) -> int:
        from sealer.connect import Result

        assert isinstance(result, Result)
        return int(require_ok(result))

    garbled: Fact[int] = Fact("answer", ("echo", "not-a-number"), strict)
    failing: Fact[int] = Fact("answer", ("false",), strict)
    async with Connections(options) as conns:
        with pytest.raises(FactError) as caught:
            await collect(conns, root, garbled)
        with pytest.raises(CommandFailed) as failed:
            await collect(conns, root, failing)
    assert str(caught.value).startswith(f"127.0.0.1:{root.port}: cannot read answer from `echo")
    assert failed.value.argv == ["false"] and failed.value.exit_status == 1


async def test_gather_as_a_sudo_user(sshd: Sshd, options: PoolOptions) -> None:
    with temp_user(sudoers=True) as user:
        host = HostAccess(
            "127.0.0.1", sshd.port, user=user.name, password=Secret(user.password), agent=False
        )
        async with Connections(options) as conns:
            facts = (await gather_host_facts(conns, [host]))[host]
            whoami = await conns.run(host, ["id", "-u"])
    assert whoami.stdout == "0\n"  # facts ran through sudo -n
    assert facts.reachable and facts.hostname == socket.gethostname()
    assert facts.kube is not None and facts.kube.role is None
