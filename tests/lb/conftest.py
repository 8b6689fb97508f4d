"""Fixtures of the load-balancer tests: a namespace lab (root) and a PKI (anyone)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.lb.netlab import NetLab, Pki, lab_available, make_pki


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[NetLab]:
    """A fresh namespace node with three stand-in masters' addresses (servers not started)."""
    reason = lab_available()
    if reason is not None:
        pytest.skip(reason)
    net = NetLab(tmp_path / "lab")
    try:
        net.create()
        yield net
    finally:
        net.close()


@pytest.fixture
def pki(tmp_path: Path) -> Pki:
    """CA + server certificate for 127.0.0.1 (the SAN the probe must check)."""
    return make_pki(tmp_path / "pki", ["127.0.0.1"])
