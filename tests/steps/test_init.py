"""init against the fake: kubeadm init only over no cluster state, or over sealer's own
init that stopped half-way."""

from __future__ import annotations

import pytest

from sealer.engine.context import RunContext
from sealer.errors import CommandFailed, StepError
from sealer.kube.pki import ClusterCA
from sealer.layout import (
    ADMIN_CONF,
    APISERVER_MANIFEST,
    CLUSTER_IDENTITY,
    ETCD_DATA,
    ETCD_MANIFEST,
    INIT_MARKER,
    KUBEADM_CONFIG_PATH,
    KUBEADM_RUN_CONFIG_PATH,
)
from sealer.plan.payloads import InitPayload
from sealer.steps.control_plane import KUBEADM_TIMEOUT
from sealer.steps.init import INIT_VERB, Init
from tests.steps.builders import (
    M,
    cluster,
    configmap,
    fresh,
    kube_files,
    make_target,
    readyz,
    running,
)
from tests.steps.fake_remote import FakeRemote
from tests.steps.kubeadm_runs import (
    INSTALL_KUBECONFIG,
    RESET,
    RM_RUN_CONFIG,
    changed_argv,
    script_host,
)

CTX = RunContext()


MASTER_STATE = (APISERVER_MANIFEST, ETCD_MANIFEST, ETCD_DATA, ADMIN_CONF)

INIT = ("kubeadm", *INIT_VERB, "--config", KUBEADM_RUN_CONFIG_PATH)


def script_init(fake: FakeRemote, host: str, *present: str) -> None:
    script_host(fake, host)
    readyz(fake, host, 1)
    kube_files(fake, host, *present)
    fake.on(INIT, host=host)
    fake.on(INSTALL_KUBECONFIG, host=host)
    configmap(fake, host, None)
    fake.on_prefix(["kubectl", "--kubeconfig", ADMIN_CONF, "--namespace"], host=host)


async def test_init_writes_the_marker_pki_and_config_then_runs_kubeadm_init(
    fake: FakeRemote, ca: ClusterCA
) -> None:
    host = M[0]
    script_init(fake, host)
    target = make_target(fake, cluster(), fresh(cluster()), ca)

    outcome = await Init(target, host, InitPayload()).run(CTX)

    assert outcome.changed
    commands = changed_argv(fake)
    assert commands[:3] == [INIT, RM_RUN_CONFIG, INSTALL_KUBECONFIG]
    assert commands[3][5:8] == ("create", "configmap", "sealer-cluster")
    assert commands[4:] == [("rm", "-f", INIT_MARKER)]
    assert next(c for c in fake.calls if c.argv == INIT).timeout == KUBEADM_TIMEOUT
    uploads = fake.uploads
    assert (uploads[0].path, uploads[-1].path) == (INIT_MARKER, CLUSTER_IDENTITY)
    modes = {u.path: u.mode for u in uploads}
    assert modes["/etc/kubernetes/pki/ca.key"] == 0o600
    assert modes["/etc/kubernetes/pki/ca.crt"] == 0o644
    assert modes[KUBEADM_CONFIG_PATH] == modes[KUBEADM_RUN_CONFIG_PATH] == 0o600
    # the marker is written before kubeadm starts, the identity only after it finished
    kubeadm_at = fake.index(INIT)
    assert fake.log.index(uploads[0]) < kubeadm_at < fake.log.index(uploads[-1])
    assert RESET not in fake.commands()


async def test_init_creates_sealers_own_token_from_the_file_and_prints_no_secret(
    fake: FakeRemote, ca: ClusterCA
) -> None:
    host = M[0]
    script_init(fake, host)
    target = make_target(fake, cluster(), fresh(cluster()), ca)

    await Init(target, host, InitPayload()).run(CTX)

    token = target.credentials.token
    assert token is not None and fake.secrets[:2] == [token, token.split(".")[1]]
    assert target.credentials.ca_cert_hash == ca.ca_cert_hash()
    assert "--skip-token-print" in INIT and "--skip-certificate-key-print" in INIT
    assert "--upload-certs" not in INIT  # no kubeadm-certs Secret, no certificate key
    real = next(u for u in fake.uploads if u.path == KUBEADM_RUN_CONFIG_PATH)
    kept = next(u for u in fake.uploads if u.path == KUBEADM_CONFIG_PATH)
    assert f"- token: {token}\n".encode() in real.content and real.mode == 0o600
    assert token.encode() not in kept.content and b"bootstrapTokens" not in kept.content
    assert all(token not in " ".join(c.argv) for c in fake.calls)


async def test_init_on_a_running_control_plane_changes_nothing(
    fake: FakeRemote, ca: ClusterCA
) -> None:
    readyz(fake, M[0], 0)
    target = make_target(fake, cluster(), running(cluster()), ca)

    assert not (await Init(target, M[0], InitPayload()).run(CTX)).changed
    assert fake.changes() == []


@pytest.mark.parametrize("reset_half_done", [False, True])
async def test_init_refuses_cluster_state_the_plan_did_not_expect(
    fake: FakeRemote, ca: ClusterCA, reset_half_done: bool
) -> None:
    # without sealer's init marker, control-plane files are a cluster that existed: even
    # with reset_half_done the host is not reset
    script_init(fake, M[0], *MASTER_STATE)
    target = make_target(fake, cluster(), fresh(cluster()), ca)

    with pytest.raises(StepError, match="holds cluster state") as failed:
        await Init(target, M[0], InitPayload(reset_half_done)).run(CTX)

    assert failed.value.host == M[0]
    assert fake.changes() == []


async def test_init_resets_only_its_own_half_done_init_when_told_to(
    fake: FakeRemote, ca: ClusterCA
) -> None:
    script_init(fake, M[0], *MASTER_STATE, INIT_MARKER)
    target = make_target(fake, cluster(), fresh(cluster()), ca)

    with pytest.raises(StepError):
        await Init(target, M[0], InitPayload()).run(
            CTX
        )  # not planned: refused even with the marker
    assert fake.changes() == []

    assert (await Init(target, M[0], InitPayload(reset_half_done=True)).run(CTX)).changed
    assert changed_argv(fake)[:2] == [RESET, INIT]
    assert fake.index(RESET) < fake.log.index(fake.uploads[0])  # before the new marker


async def test_init_failure_removes_the_secret_config_and_stops(
    fake: FakeRemote, ca: ClusterCA
) -> None:
    script_init(fake, M[0])
    fake.on(INIT, exit_status=1, stderr="[ERROR Port-6443]: Port 6443 is in use")
    target = make_target(fake, cluster(), fresh(cluster()), ca)

    with pytest.raises(CommandFailed, match="Port 6443") as failed:
        await Init(target, M[0], InitPayload()).run(CTX)

    assert failed.value.host == M[0]
    assert changed_argv(fake) == [INIT, RM_RUN_CONFIG]
    assert CLUSTER_IDENTITY not in [u.path for u in fake.uploads]
