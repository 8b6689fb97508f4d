"""Fixtures every test area may use: a lab of real SSH hosts (see docs/lab.md).

``lab`` is one session-wide lab (3 masters, 2 nodes, key and password login, a sudo user
``alice``) with a name unique to this test session, taken down at the end even when tests fail.
``lab_factory`` makes further labs for one test and takes them down after it.
Both skip when not root or when a needed program is missing; tests using them are ``lab``-marked.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from sealer import lab as sealer_lab

LAB_PROGRAMS = ("ip", "tc", "nft", "nsenter", "unshare", "setsid", "tini", "ssh-keygen", "openssl")
SUDO_USER = "alice"


def _lab_unavailable() -> str | None:
    if os.geteuid() != 0:
        return "the lab needs root"
    missing = [p for p in (*LAB_PROGRAMS, "/usr/sbin/sshd") if shutil.which(p) is None]
    return f"missing programs: {', '.join(missing)}" if missing else None


@pytest.fixture(scope="session")
def lab_session_id() -> str:
    """Six hex digits unique to this test session; prefix of every lab name it makes."""
    return secrets.token_hex(3)


@pytest.fixture(scope="session")
def lab(lab_session_id: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[sealer_lab.Lab]:
    reason = _lab_unavailable()
    if reason:
        pytest.skip(reason)
    name = f"t{lab_session_id}"
    clusterfile = tmp_path_factory.mktemp("lab") / f"{name}.yaml"
    try:
        yield sealer_lab.up(
            name,
            masters=3,
            nodes=2,
            password_login=True,
            sudo_user=SUDO_USER,
            clusterfile=clusterfile,
        )
    finally:
        sealer_lab.down(name)


LabFactory = Callable[..., sealer_lab.Lab]


@pytest.fixture
def lab_factory(lab_session_id: str) -> Iterator[LabFactory]:
    """``lab_factory(suffix, masters=1, nodes=0, **up_options)``: a Lab removed after the test."""
    reason = _lab_unavailable()
    if reason:
        pytest.skip(reason)
    made: list[str] = []

    def make(suffix: str, masters: int = 1, nodes: int = 0, **options: Any) -> sealer_lab.Lab:
        name = f"t{lab_session_id}-{suffix}"
        made.append(name)
        return sealer_lab.up(name, masters, nodes, **options)

    try:
        yield make
    finally:
        errors = []
        for name in made:
            try:
                sealer_lab.down(name)
            except Exception as exc:  # keep removing the others
                errors.append(exc)
        if errors:
            raise errors[0]


@pytest.fixture
def lab_clusterfile(lab: sealer_lab.Lab) -> Path:
    assert lab.clusterfile is not None
    return lab.clusterfile
