"""The runtime check that init, join-master and join-node make before they change anything
(install's is in test_host_steps.py): a runtime that does not answer is named and nothing is
changed on any host; a runtime that answers, NetworkReady false, lets kubeadm run; a host
already in the cluster is not asked; the endpoint is the kubeadm configuration's criSocket."""

from __future__ import annotations

import pytest

from sealer.engine.context import RunContext
from sealer.errors import StepError
from sealer.kube.pki import ClusterCA
from sealer.plan.payloads import InitPayload, JoinNodePayload
from sealer.spec.model import Cluster
from sealer.steps.init import Init
from sealer.steps.join_master import JoinMaster
from sealer.steps.join_node import JoinNode
from sealer.steps.runtime_check import runtime_unit
from tests.steps.builders import (
    CRICTL_INFO,
    RUNTIME_INFO,
    M,
    N,
    cluster,
    fresh,
    hostname,
    joining,
    make_target,
    readyz,
    running,
    runtime,
)
from tests.steps.fake_remote import FakeRemote
from tests.steps.kubeadm_runs import JOIN
from tests.steps.test_init import INIT, script_init
from tests.steps.test_join_master import script_join_master
from tests.steps.test_join_node import get_node, script_join_node

CTX = RunContext()
CRI = "unix:///run/containerd/containerd.sock"


def assert_named(failed: pytest.ExceptionInfo[StepError], step: str, host: str) -> None:
    text = str(failed.value)
    assert failed.value.host == host and failed.value.step == step
    assert text.startswith(f"{step} on {host}: the container runtime does not answer on {CRI} (")
    assert "connect: no such file or directory" in text
    assert f"`systemctl status containerd` and `journalctl -u containerd` on {host}" in text


async def test_init_names_a_runtime_that_does_not_answer_and_changes_nothing(
    fake: FakeRemote, ca: ClusterCA
) -> None:
    host = M[0]
    script_init(fake, host)
    runtime(fake, host, False)  # the latest rule for an argv wins over script_init's
    target = make_target(fake, cluster(), fresh(cluster()), ca)

    with pytest.raises(StepError) as failed:
        await Init(target, host, InitPayload()).run(CTX)

    assert_named(failed, "init", host)
    assert fake.changes() == [] and fake.uploads == []  # no marker, no PKI, no kubeadm
    assert INIT not in fake.commands()


async def test_init_runs_kubeadm_once_the_runtime_answers_without_a_network(
    fake: FakeRemote, ca: ClusterCA
) -> None:
    host = M[0]
    script_init(fake, host)  # containerd's info: RuntimeReady true, NetworkReady false
    assert '"NetworkReady",\n        "status": false' in RUNTIME_INFO.read_text()
    target = make_target(fake, cluster(), fresh(cluster()), ca)

    assert (await Init(target, host, InitPayload()).run(CTX)).changed

    commands = fake.commands()
    assert commands.index(CRICTL_INFO) < commands.index(INIT)


async def test_join_master_names_the_runtime_before_asking_for_a_token(
    fake: FakeRemote, ca: ClusterCA
) -> None:
    host = M[1]
    script_join_master(fake, ca, host)
    runtime(fake, host, False)
    c = cluster()
    target = make_target(fake, c, running(c, joined=[M[0]]), ca)

    with pytest.raises(StepError) as failed:
        await JoinMaster(target, host, joining(host)).run(CTX)

    assert_named(failed, "join-master", host)
    assert fake.changes() == [] and fake.uploads == []  # not even a token on master0


async def test_join_node_names_the_runtime_before_anything(fake: FakeRemote, ca: ClusterCA) -> None:
    host = N[0]
    script_join_node(fake, ca, host)
    runtime(fake, host, False)
    c = cluster()
    target = make_target(fake, c, running(c, joined=M), ca)

    with pytest.raises(StepError) as failed:
        await JoinNode(target, host, JoinNodePayload()).run(CTX)

    assert_named(failed, "join-node", host)
    assert fake.changes() == [] and fake.uploads == []
    assert JOIN not in fake.commands()


async def test_hosts_already_in_the_cluster_are_not_asked(fake: FakeRemote, ca: ClusterCA) -> None:
    c = cluster()
    readyz(fake, M[0], 0)
    readyz(fake, M[1], 0)
    fake.on(get_node(hostname(N[0])), host=M[0], read=True, stdout="node/h20\n")
    target = make_target(fake, c, running(c), ca)

    assert not (await Init(target, M[0], InitPayload()).run(CTX)).changed
    assert not (await JoinMaster(target, M[1], joining(M[1])).run(CTX)).changed
    assert not (await JoinNode(target, N[0], JoinNodePayload()).run(CTX)).changed
    assert CRICTL_INFO not in fake.commands()


async def test_the_endpoint_is_the_kubeadm_configuration_s_cri_socket(
    fake: FakeRemote, ca: ClusterCA
) -> None:
    crio = "unix:///var/run/crio/crio.sock"
    doc = cluster().model_dump(mode="json", by_alias=True)
    doc["spec"]["kubeadm"] = {"joinConfiguration": {"nodeRegistration": {"criSocket": crio}}}
    c = Cluster.model_validate(doc)
    host = N[0]
    fake.on(["crictl", "--runtime-endpoint", crio, "info"], host=host, read=True, exit_status=1)
    target = make_target(fake, c, running(c, joined=M), ca)
    fake.on(get_node(hostname(N[0])), host=M[0], read=True, stdout="")

    with pytest.raises(StepError, match=f"does not answer on {crio} \\(crictl exited 1\\)") as e:
        await JoinNode(target, host, JoinNodePayload()).run(CTX)

    assert "`systemctl status crio`" in str(e.value)
    assert runtime_unit("unix:///run/cri-dockerd.sock") == "cri-docker"
    assert runtime_unit(CRI) == "containerd"
