"""Fixtures for tests that need one real sshd on 127.0.0.1 per module (tests/connect/sshd.py):
``client_key``, ``sshd``, ``options`` (a pool that knows its host key) and ``root`` (how to
reach it). A test area's conftest.py imports them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sealer.connect import HostAccess, PoolOptions
from tests.connect.sshd import Sshd, keygen, running_sshd

__all__ = ["client_key", "options", "root", "sshd"]


@pytest.fixture(scope="module")
def client_key(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return keygen(tmp_path_factory.mktemp("keys") / "client")


@pytest.fixture(scope="module")
def sshd(client_key: Path) -> Iterator[Sshd]:
    with running_sshd([client_key]) as server:
        yield server


@pytest.fixture
def options(tmp_path: Path, sshd: Sshd) -> PoolOptions:
    known = tmp_path / "known_hosts"
    known.write_text(sshd.known_hosts_line())
    return PoolOptions(
        known_hosts=(known,), pinned_known_hosts=tmp_path / "pinned", connect_retries=0
    )


@pytest.fixture
def root(sshd: Sshd, client_key: Path) -> HostAccess:
    return HostAccess("127.0.0.1", sshd.port, private_key=client_key, agent=False)
