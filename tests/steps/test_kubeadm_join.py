"""The run's join credentials: made once, handed over in a 0600 file, deleted after."""

from __future__ import annotations

from sealer.kube.pki import ClusterCA
from sealer.layout import ADMIN_CONF
from sealer.steps.kubeadm_join import join_secrets, revoke_join_secrets
from tests.steps.builders import (
    TOKEN_CREATE,
    M,
    cluster,
    join_credentials,
    make_target,
    running,
)
from tests.steps.fake_remote import FakeRemote

DELETE_CERTS = ("kubectl", "--kubeconfig", ADMIN_CONF, "--namespace", "kube-system",
                "delete", "secret", "--ignore-not-found", "--", "kubeadm-certs")  # fmt: skip


async def test_one_token_per_run_then_deleted_by_id_with_the_certs_secret(
    fake: FakeRemote, ca: ClusterCA
) -> None:
    join_credentials(fake, M[0], ca)
    target = make_target(fake, cluster(), running(cluster()), ca)
    first = await join_secrets(target, M[0])
    second = await join_secrets(target, M[0])
    assert first == second and first.ca_cert_hashes == (ca.ca_cert_hash(),)
    assert [c.argv for c in fake.calls].count(TOKEN_CREATE) == 1

    token_id = first.token.split(".")[0]
    fake.on(["kubeadm", "token", "delete", "--", token_id], host=M[0])
    fake.on(DELETE_CERTS, host=M[0])
    assert await revoke_join_secrets(target) == []

    commands = fake.commands()
    assert commands[-2:] == [("kubeadm", "token", "delete", "--", token_id), DELETE_CERTS]
    assert target.credentials.token is None
    assert await revoke_join_secrets(target) == []  # nothing left to delete
    assert fake.commands() == commands


async def test_a_run_without_joins_deletes_nothing(fake: FakeRemote, ca: ClusterCA) -> None:
    target = make_target(fake, cluster(), running(cluster()), ca)
    assert await revoke_join_secrets(target) == []
    assert fake.calls == []


async def test_a_token_that_cannot_be_deleted_is_reported(fake: FakeRemote, ca: ClusterCA) -> None:
    join_credentials(fake, M[0], ca)
    target = make_target(fake, cluster(), running(cluster()), ca)
    token_id = (await join_secrets(target, M[0])).token.split(".")[0]
    fake.on(
        ["kubeadm", "token", "delete", "--", token_id],
        host=M[0],
        exit_status=1,
        stderr="failed to delete bootstrap token: connection refused",
    )
    fake.on(DELETE_CERTS, host=M[0])

    [problem] = await revoke_join_secrets(target)

    assert problem.startswith(f"{M[0]}: `kubeadm token delete --")
    assert "connection refused" in problem
    assert target.credentials.token is not None
