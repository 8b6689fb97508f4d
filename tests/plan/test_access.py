"""The Clusterfile's SSH settings as connection settings: a jump host gets only its own
credentials (the hosts' key and agent when it has none, never their password)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sealer.plan.access import host_access
from sealer.spec.model import Cluster

HOST = "10.0.0.11"


def cluster(ssh: dict[str, Any]) -> Cluster:
    return Cluster.model_validate(
        {
            "apiVersion": "sealer.dev/v1alpha1",
            "kind": "Cluster",
            "metadata": {"name": "demo"},
            "spec": {
                "version": "v1.29.3",
                "masters": [HOST],
                "package": "/opt/kube.tar.gz",
                "ssh": ssh,
            },
        }
    )


def test_a_jump_host_with_its_own_credentials_gets_only_those() -> None:
    access = host_access(
        cluster(
            {
                "password": "host-password-1",
                "privateKey": "/keys/host",
                "jumpHost": {"host": "203.0.113.5", "password": "jump-password-2"},
            }
        ),
        HOST,
    )
    jump = access.jump
    assert jump is not None
    assert jump.password is not None and jump.password.reveal() == "jump-password-2"
    assert jump.private_key is None
    assert access.password is not None and access.password.reveal() == "host-password-1"


def test_a_jump_host_without_credentials_is_offered_the_key_never_the_password() -> None:
    access = host_access(
        cluster(
            {
                "password": "host-password-1",
                "privateKey": "/keys/host",
                "passphrase": "key-passphrase-3",
                "agent": True,
                "jumpHost": {"host": "203.0.113.5"},
            }
        ),
        HOST,
    )
    jump = access.jump
    assert jump is not None
    assert jump.password is None
    assert jump.private_key == Path("/keys/host") and jump.agent
    assert jump.passphrase is not None and jump.passphrase.reveal() == "key-passphrase-3"
    assert "host-password-1" not in jump.secrets()
