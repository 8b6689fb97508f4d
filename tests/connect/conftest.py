from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from sealer.connect import HostAccess, PoolOptions
from tests.connect.sshd import Sshd, TempUser, keygen, running_sshd, temp_user

PASSPHRASE = "correct horse battery staple"


@dataclass
class Keys:
    client: Path
    encrypted: Path
    stranger: Path


@pytest.fixture(scope="session")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Keys:
    directory = tmp_path_factory.mktemp("keys")
    return Keys(
        client=keygen(directory / "client"),
        encrypted=keygen(directory / "encrypted", PASSPHRASE),
        stranger=keygen(directory / "stranger"),
    )


@pytest.fixture(scope="module")
def sshd(keys: Keys) -> Iterator[Sshd]:
    with running_sshd([keys.client, keys.encrypted]) as server:
        yield server


@pytest.fixture
def known_hosts(tmp_path: Path, sshd: Sshd) -> Path:
    path = tmp_path / "known_hosts"
    path.write_text(sshd.known_hosts_line())
    return path


@pytest.fixture
def options(tmp_path: Path, known_hosts: Path) -> PoolOptions:
    return PoolOptions(
        known_hosts=(known_hosts,),
        pinned_known_hosts=tmp_path / "pinned_known_hosts",
        connect_retries=0,
    )


@pytest.fixture
def root(sshd: Sshd, keys: Keys) -> HostAccess:
    return HostAccess(address="127.0.0.1", port=sshd.port, private_key=keys.client, agent=False)


@pytest.fixture
def user() -> Iterator[TempUser]:
    with temp_user() as made:
        yield made


@pytest.fixture
def sudo_user() -> Iterator[TempUser]:
    with temp_user(sudoers=True) as made:
        yield made
