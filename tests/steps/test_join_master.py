"""join-master against the fake, with the safety rules that guard `kubeadm reset`: never
before etcd was checked, never when etcd would lose its quorum."""

from __future__ import annotations

from dataclasses import replace

import pytest

from sealer.engine.context import RunContext
from sealer.errors import CommandFailed, StepError
from sealer.facts.cluster import ETCDCTL
from sealer.kube.pki import ClusterCA
from sealer.layout import (
    CLUSTER_IDENTITY,
    ETCD_DATA,
    ETCD_MANIFEST,
    INIT_MARKER,
    KUBEADM_CONFIG_PATH,
    KUBEADM_RUN_CONFIG_PATH,
    KUBELET_CONF,
)
from sealer.steps.join_master import JoinMaster
from tests.steps.builders import (
    IDS,
    M,
    cluster,
    etcd,
    join_credentials,
    joining,
    kube_files,
    make_target,
    member,
    member_remove,
    readyz,
    running,
)
from tests.steps.fake_remote import FakeRemote
from tests.steps.kubeadm_runs import (
    INSTALL_KUBECONFIG,
    JOIN,
    RESET,
    RM_RUN_CONFIG,
    changed_argv,
    script_host,
)

CTX = RunContext()


MEMBER_LIST = (*ETCDCTL, "member", "list", "-w", "json")
HEALTH = (*ETCDCTL, "endpoint", "health", "--cluster", "-w", "json")


def script_join_master(fake: FakeRemote, ca: ClusterCA, host: str, *present: str) -> None:
    script_host(fake, host)
    readyz(fake, host, 1, 0)  # not a member yet; ready once joined
    join_credentials(fake, M[0], ca)
    kube_files(fake, host, *present)
    fake.on(JOIN, host=host)
    fake.on(INSTALL_KUBECONFIG, host=host)
    fake.on(member_remove(IDS[host]), host=M[0])
    fake.write(host, "/etc/hosts", "127.0.0.1 localhost\n")


async def test_join_master_joins_with_secrets_only_in_the_temporary_config(
    fake: FakeRemote, ca: ClusterCA
) -> None:
    host = M[1]
    script_join_master(fake, ca, host)
    c = cluster()
    target = make_target(fake, c, running(c, joined=[M[0]]), ca)

    assert (await JoinMaster(target, host, joining(host)).run(CTX)).changed

    assert changed_argv(fake, host) == [
        JOIN,
        RM_RUN_CONFIG,
        INSTALL_KUBECONFIG,
        ("rm", "-f", INIT_MARKER),
    ]
    token = target.credentials.token
    assert token is not None and fake.secrets == [token, token.split(".")[1]]
    kept, real = fake.file(host, KUBEADM_CONFIG_PATH), fake.file(host, KUBEADM_RUN_CONFIG_PATH)
    assert kept is not None and real is not None
    assert token.encode() in real and token.encode() not in kept
    # no certificate key: sealer copied the control-plane certificates itself
    assert b"certificateKey" not in real
    assert not any("upload-certs" in c.argv for c in fake.calls)
    hosts = fake.file(host, "/etc/hosts") or b""
    assert f"{host} apiserver.cluster.local".encode() in hosts  # its own API server now
    assert RESET not in fake.commands()


async def test_join_master_resets_a_half_join_only_after_etcd_was_checked(
    fake: FakeRemote, ca: ClusterCA
) -> None:
    host = M[1]
    script_join_master(fake, ca, host, KUBELET_CONF, ETCD_DATA, ETCD_MANIFEST)
    etcd(fake, M[0], [member(a, IDS[a]) for a in M])
    c = cluster()
    target = make_target(fake, c, running(c, joined=[M[0], M[2]]), ca)

    assert (await JoinMaster(target, host, joining(host, remove_etcd_member=True)).run(CTX)).changed

    listed, health = fake.index(MEMBER_LIST, M[0]), fake.index(HEALTH, M[0])
    removed = fake.index(member_remove(IDS[host]), M[0])
    reset = fake.index(RESET, host)
    assert max(listed, health) < removed < reset < fake.index(JOIN, host)
    assert [c.argv for c in fake.calls if "remove" in c.argv] == [tuple(member_remove(IDS[host]))]


async def test_join_master_refuses_to_reset_when_etcd_would_lose_its_quorum(
    fake: FakeRemote, ca: ClusterCA
) -> None:
    host = M[1]
    script_join_master(fake, ca, host, KUBELET_CONF, ETCD_DATA)
    # 3 members: this host (to be reset) and M[2] (unhealthy) leave M[0] alone, no quorum
    etcd(fake, M[0], [member(a, IDS[a]) for a in M], unhealthy=[f"https://{M[2]}:2379"])
    c = cluster()
    target = make_target(fake, c, running(c, joined=[M[0], M[2]]), ca)

    with pytest.raises(StepError, match="quorum") as failed:
        await JoinMaster(target, host, joining(host, remove_etcd_member=True)).run(CTX)

    assert failed.value.host == host
    assert RESET not in fake.commands() and JOIN not in fake.commands()
    assert not any("remove" in c.argv for c in fake.calls)


async def test_join_master_refuses_to_reset_when_etcd_cannot_be_read(
    fake: FakeRemote, ca: ClusterCA
) -> None:
    host = M[1]
    script_join_master(fake, ca, host, ETCD_DATA)
    fake.on(MEMBER_LIST, host=M[0], read=True, exit_status=1, stderr="context deadline exceeded")
    c = cluster()
    target = make_target(fake, c, running(c, joined=[M[0]]), ca)

    with pytest.raises(StepError, match="health is unknown"):
        await JoinMaster(target, host, joining(host)).run(CTX)

    assert RESET not in fake.commands()


async def test_join_master_without_another_master_serving_refuses_to_reset(
    fake: FakeRemote, ca: ClusterCA
) -> None:
    host = M[1]
    script_join_master(fake, ca, host, ETCD_DATA)
    c = cluster()
    target = make_target(fake, c, replace(running(c, joined=[M[0]]), api_host=None), ca)

    with pytest.raises(StepError, match="no other master answers"):
        await JoinMaster(target, host, joining(host)).run(CTX)

    assert RESET not in fake.commands() and MEMBER_LIST not in fake.commands()


async def test_join_master_already_a_member_changes_nothing(
    fake: FakeRemote, ca: ClusterCA
) -> None:
    readyz(fake, M[1], 0)
    target = make_target(fake, cluster(), running(cluster()), ca)

    assert not (await JoinMaster(target, M[1], joining(M[1])).run(CTX)).changed
    assert fake.changes() == []


async def test_join_master_failure_stops_before_the_kubeconfig_and_identity(
    fake: FakeRemote, ca: ClusterCA
) -> None:
    host = M[1]
    script_join_master(fake, ca, host)
    fake.on(JOIN, host=host, exit_status=1, stderr="etcdserver: unhealthy cluster")
    c = cluster()
    target = make_target(fake, c, running(c, joined=[M[0]]), ca)

    with pytest.raises(CommandFailed, match="unhealthy cluster") as failed:
        await JoinMaster(target, host, joining(host)).run(CTX)

    assert failed.value.host == host
    assert changed_argv(fake, host) == [JOIN, RM_RUN_CONFIG]
    assert CLUSTER_IDENTITY not in [u.path for u in fake.uploads]
