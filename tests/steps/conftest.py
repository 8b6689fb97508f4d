"""Fixtures of the step tests (builders live in ``builders.py``, the fake in ``fake_remote.py``)."""

from __future__ import annotations

import pytest

from sealer.kube.pki import ClusterCA
from tests.steps.builders import cluster
from tests.steps.fake_remote import FakeRemote


@pytest.fixture(scope="session")
def ca() -> ClusterCA:
    """One cluster CA for the whole session (ECDSA: generated in milliseconds)."""
    return ClusterCA.generate(cluster().spec)


@pytest.fixture
def fake() -> FakeRemote:
    return FakeRemote()
