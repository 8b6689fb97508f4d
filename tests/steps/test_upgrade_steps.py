"""stage, upgrade-master and upgrade-node against the fake: facts in, argv and files out."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from sealer.connect.command import builtin_argv
from sealer.engine.context import RunContext
from sealer.errors import StepError
from sealer.facts.cluster import ETCDCTL, UPGRADING_ANNOTATION
from sealer.layout import ADMIN_CONF, APISERVER_MANIFEST, PACKAGE_DIR, STAGED_DIR, UNPACKED_DIR
from sealer.offline_package import LocalPackage
from sealer.plan.payloads import (
    StagePayload,
    UpgradeMasterPayload,
    UpgradeNodePayload,
    UpgradeSettings,
)
from sealer.steps.install import unpack_argv
from sealer.steps.stage import Stage
from sealer.steps.upgrade_master import UpgradeMaster
from sealer.steps.upgrade_node import UpgradeNode
from tests.steps.builders import VERSION, M, N, cluster, hostname, make_target, readyz, running
from tests.steps.fake_remote import Call, FakeRemote, Reply

CTX = RunContext()
NEW = "v1.30.4"
KUBE = f"{STAGED_DIR}/{NEW}/kube"
KUBECTL = ("kubectl", "--kubeconfig", ADMIN_CONF)
SETTINGS = UpgradeSettings(NEW, 120)
BIN = "/usr/local/bin"


def metadata(version: str) -> bytes:
    return json.dumps({"version": version, "k8sVersion": version}).encode()


def new_package(tmp_path: Path) -> LocalPackage:
    path = tmp_path / "kube1.30.4.tar.gz"
    path.write_bytes(b"the new package")
    import hashlib

    sha = hashlib.sha256(b"the new package").hexdigest()
    return LocalPackage(path, path.name, sha, 15, NEW, "amd64")


def sha256sum(fake: FakeRemote, host: str) -> None:
    """``sha256sum FILE`` of whatever the fake holds at FILE."""
    import hashlib

    def reply(f: FakeRemote, call: Call) -> Reply:
        data = f.file(call.host, call.argv[-1])
        if data is None:
            return Reply(1, "", f"sha256sum: {call.argv[-1]}: No such file or directory")
        return Reply(0, f"{hashlib.sha256(data).hexdigest()}  {call.argv[-1]}\n")

    fake.on_prefix(["sha256sum"], reply, host=host, read=True)


async def test_stage_copies_and_unpacks_next_to_the_running_package(
    fake: FakeRemote, tmp_path: Path
) -> None:
    pkg = new_package(tmp_path)
    host = N[0]
    remote = f"{PACKAGE_DIR}/{pkg.name}"
    sha256sum(fake, host)
    fake.on(["mkdir", "-p", PACKAGE_DIR], host=host)
    fake.on(["rm", "-rf", "--", f"{STAGED_DIR}/{NEW}"], host=host)
    fake.on(["mkdir", "-p", "--", f"{STAGED_DIR}/{NEW}"], host=host)

    def untar(f: FakeRemote, call: Call) -> Reply:
        f.write(call.host, f"{KUBE}/Metadata", metadata(NEW))
        return Reply()

    fake.on(unpack_argv(remote, f"{STAGED_DIR}/{NEW}"), untar, host=host)
    fake.on(["chmod", "-R", "go-w", "--", f"{STAGED_DIR}/{NEW}"], host=host)
    target = make_target(fake, cluster(), running(cluster()), package_or_none=pkg)

    outcome = await Stage(target, host, StagePayload(NEW)).run(CTX)

    assert outcome.changed and "nothing installed yet" in outcome.reason
    assert fake.file(host, remote) == b"the new package"
    # no init.sh, nothing installed, the running package's tree untouched
    assert not any("init.sh" in c.argv or "install" in c.argv for c in fake.calls)
    assert not any(UNPACKED_DIR in c.argv for c in fake.calls)
    # a second run finds it staged and changes nothing
    before = len(fake.changes())
    assert not (await Stage(target, host, StagePayload(NEW)).run(CTX)).changed
    assert len(fake.changes()) == before


async def test_stage_refuses_a_package_whose_metadata_is_another_version(
    fake: FakeRemote, tmp_path: Path
) -> None:
    pkg = new_package(tmp_path)
    host = N[0]
    sha256sum(fake, host)
    fake.on_prefix(["mkdir"], host=host)
    fake.on(["rm", "-rf", "--", f"{STAGED_DIR}/{NEW}"], host=host)

    def untar(f: FakeRemote, call: Call) -> Reply:
        f.write(call.host, f"{KUBE}/Metadata", metadata("v1.30.1"))
        return Reply()

    fake.on_prefix(["tar"], untar, host=host)
    fake.on_prefix(["chmod"], host=host)
    target = make_target(fake, cluster(), running(cluster()), package_or_none=pkg)

    with pytest.raises(StepError, match=r"Metadata says v1\.30\.1, expected v1\.30\.4: not staged"):
        await Stage(target, host, StagePayload(NEW)).run(CTX)
    assert fake.commands(host)[-1] == ("rm", "-rf", "--", f"{STAGED_DIR}/{NEW}")


def nodes_json(**nodes: dict[str, Any]) -> str:
    items = []
    for name, n in nodes.items():
        annotations = {UPGRADING_ANNOTATION: n["mark"]} if n.get("mark") else {}
        items.append(
            {
                "metadata": {"name": name, "annotations": annotations},
                "spec": {"unschedulable": bool(n.get("cordoned"))},
                "status": {
                    "conditions": [{"type": "Ready", "status": "True" if n["ready"] else "False"}],
                    "nodeInfo": {"kubeletVersion": n["version"]},
                },
            }
        )
    return json.dumps({"apiVersion": "v1", "kind": "List", "items": items})


class Cluster:
    """The Node of one host as the steps change it: the kubelet's version follows the
    installed binary once restarted; cordon and the mark as kubectl sets them."""

    def __init__(self, fake: FakeRemote, host: str, helper: str, *, comes_back: bool = True):
        self.name = hostname(host)
        self.version = VERSION
        self.installed = VERSION
        self.cordoned = False
        self.mark = ""
        self.comes_back = comes_back
        fake.on([*KUBECTL, "get", "nodes", "-o", "json"], self.get, host=helper, read=True)
        fake.on_prefix([*KUBECTL, "annotate"], self.annotate, host=helper)
        fake.on([*KUBECTL, "cordon", self.name], self.set_cordon(True), host=helper)
        fake.on([*KUBECTL, "uncordon", self.name], self.set_cordon(False), host=helper)
        fake.on_prefix([*KUBECTL, "drain", self.name], host=helper)
        fake.on(builtin_argv("command", "-v", "kubeadm"), host=host, read=True,
                stdout=f"{BIN}/kubeadm\n")  # fmt: skip
        fake.on(builtin_argv("command", "-v", "kubelet"), host=host, read=True,
                stdout=f"{BIN}/kubelet\n")  # fmt: skip
        fake.on(builtin_argv("command", "-v", "kubectl"), host=host, read=True,
                stdout=f"{BIN}/kubectl\n")  # fmt: skip
        fake.on(["kubeadm", "version", "-o", "short"], host=host, read=True, stdout=f"{VERSION}\n")
        fake.on_prefix(["install", "-m", "0755"], self.install, host=host)
        fake.on_prefix(["mv"], host=host)
        fake.on_prefix(["rm", "-rf", "--"], host=host)
        fake.on_prefix(["rmdir"], host=host)
        fake.on(["systemctl", "restart", "kubelet"], self.restart, host=host)

    def get(self, _f: FakeRemote, _c: Call) -> Reply:
        node = {
            "version": self.version,
            "ready": True,
            "cordoned": self.cordoned,
            "mark": self.mark,
        }
        return Reply(0, nodes_json(**{self.name: node}))

    def annotate(self, _f: FakeRemote, call: Call) -> Reply:
        self.mark = "" if call.argv[-1].endswith("-") else call.argv[-1].split("=", 1)[1]
        return Reply()

    def set_cordon(self, value: bool) -> Any:
        def reply(_f: FakeRemote, _c: Call) -> Reply:
            self.cordoned = value
            return Reply()

        return reply

    def install(self, _f: FakeRemote, call: Call) -> Reply:
        if call.argv[-2].endswith("/kubelet"):
            self.installed = NEW
        return Reply()

    def restart(self, _f: FakeRemote, _c: Call) -> Reply:
        if not self.comes_back:
            return Reply(255, "", "connection lost")
        self.version = self.installed
        return Reply()


async def test_upgrade_node_runs_the_order_and_leaves_the_node_uncordoned(
    fake: FakeRemote,
) -> None:
    host = N[0]
    node = Cluster(fake, host, helper=M[0])
    fake.on(["kubeadm", "upgrade", "node"], host=host)
    target = make_target(fake, cluster(), running(cluster()))
    payload = UpgradeNodePayload(node.name, SETTINGS, 1, 2)

    outcome = await UpgradeNode(target, host, payload).run(CTX)

    assert outcome.changed
    assert node.version == NEW and not node.cordoned and node.mark == ""
    changes = [c.argv for c in fake.changes() if isinstance(c, Call)]
    order = [
        (*KUBECTL, "annotate", "--overwrite", "node", node.name, f"{UPGRADING_ANNOTATION}={NEW}"),
        (*KUBECTL, "cordon", node.name),
        (*KUBECTL, "drain", node.name, "--ignore-daemonsets", "--delete-emptydir-data",
         "--timeout=120s"),
        ("install", "-m", "0755", f"{KUBE}/bin/kubeadm", f"{BIN}/kubeadm.new"),
        ("mv", "-f", "--", f"{BIN}/kubeadm.new", f"{BIN}/kubeadm"),
        ("kubeadm", "upgrade", "node"),
        ("install", "-m", "0755", f"{KUBE}/bin/kubelet", f"{BIN}/kubelet.new"),
        ("mv", "-f", "--", f"{BIN}/kubelet.new", f"{BIN}/kubelet"),
        ("install", "-m", "0755", f"{KUBE}/bin/kubectl", f"{BIN}/kubectl.new"),
        ("mv", "-f", "--", f"{BIN}/kubectl.new", f"{BIN}/kubectl"),
        ("systemctl", "restart", "kubelet"),
        (*KUBECTL, "uncordon", node.name),
        (*KUBECTL, "annotate", "node", node.name, f"{UPGRADING_ANNOTATION}-"),
        ("rm", "-rf", "--", UNPACKED_DIR),
        ("mv", "--", KUBE, UNPACKED_DIR),
        ("rm", "-rf", "--", f"{STAGED_DIR}/{NEW}"),
        ("rmdir", "--ignore-fail-on-non-empty", "--", STAGED_DIR),
    ]  # fmt: skip
    assert changes == order
    drain = next(c for c in fake.calls if "drain" in c.argv)
    assert drain.host == M[0] and drain.timeout == 180.0


async def test_upgrade_node_failure_after_cordon_names_the_host_left_cordoned(
    fake: FakeRemote,
) -> None:
    host = N[1]
    node = Cluster(fake, host, helper=M[0], comes_back=False)
    fake.on(["kubeadm", "upgrade", "node"], host=host)
    target = make_target(fake, cluster(), running(cluster()))
    skip = UpgradeSettings(NEW, 120, skip_drain=True)

    with pytest.raises(StepError) as failed:
        await UpgradeNode(target, host, UpgradeNodePayload(node.name, skip)).run(CTX)

    message = str(failed.value)
    assert message.startswith(f"upgrade-node on {host}: node {node.name} is left cordoned")
    assert f"({UPGRADING_ANNOTATION}={NEW})" in message and "connection lost" in message
    assert "`sealer apply` finishes this host" in message
    assert node.cordoned and node.mark == NEW
    assert not any("drain" in c.argv for c in fake.calls)  # --skip-drain
    assert not any("uncordon" in c.argv for c in fake.calls)


def manifest(version: str) -> bytes:
    return f"spec:\n  containers:\n  - image: registry.k8s.io/kube-apiserver:{version}\n".encode()


async def test_upgrade_master_applies_on_master0_and_checks_its_gates(fake: FakeRemote) -> None:
    host = M[0]
    node = Cluster(fake, host, helper=M[1])
    fake.write(host, APISERVER_MANIFEST, manifest(VERSION))
    fake.on(["kubeadm", "upgrade", "plan"], host=host, read=True)

    def apply(f: FakeRemote, call: Call) -> Reply:
        f.write(call.host, APISERVER_MANIFEST, manifest(NEW))
        return Reply(0, f'[upgrade/successful] SUCCESS! Your cluster was upgraded to "{NEW}".')

    fake.on(["kubeadm", "upgrade", "apply", NEW, "--yes"], apply, host=host)
    readyz(fake, host, 0)
    fake.on([*ETCDCTL, "--command-timeout", "5s", "endpoint", "health"], host=host, read=True)
    target = make_target(fake, cluster(), running(cluster()))
    payload = UpgradeMasterPayload(node.name, SETTINGS, first=True)

    outcome = await UpgradeMaster(target, host, payload).run(CTX)

    assert outcome.changed and f"kubeadm upgrade apply {NEW}" in outcome.reason
    commands = fake.commands(host)
    plan = commands.index(("kubeadm", "upgrade", "plan"))
    applied = commands.index(("kubeadm", "upgrade", "apply", NEW, "--yes"))
    kubeadm = commands.index(("mv", "-f", "--", f"{BIN}/kubeadm.new", f"{BIN}/kubeadm"))
    kubelet = commands.index(("systemctl", "restart", "kubelet"))
    assert kubeadm < plan < applied < kubelet
    # drain and uncordon went through another master, whose API server does not restart
    assert all(c.host == M[1] for c in fake.calls if c.argv[:3] == KUBECTL and "drain" in c.argv)
    assert node.version == NEW and not node.cordoned
    assert any(c.argv[:1] == ("kubectl",) and "/readyz" in c.argv for c in fake.calls)


async def test_upgrade_master_after_master0_runs_upgrade_node_once(fake: FakeRemote) -> None:
    host = M[2]
    node = Cluster(fake, host, helper=M[0])
    fake.write(host, APISERVER_MANIFEST, manifest(VERSION))

    def upgrade_node(f: FakeRemote, call: Call) -> Reply:
        f.write(call.host, APISERVER_MANIFEST, manifest(NEW))
        return Reply()

    fake.on(["kubeadm", "upgrade", "node"], upgrade_node, host=host)
    readyz(fake, host, 0)
    fake.on([*ETCDCTL, "--command-timeout", "5s", "endpoint", "health"], host=host, read=True)
    target = make_target(fake, cluster(), running(cluster()))
    payload = UpgradeMasterPayload(node.name, SETTINGS, first=False)

    assert (await UpgradeMaster(target, host, payload).run(CTX)).changed
    assert ("kubeadm", "upgrade", "node") in fake.commands(host)
    assert not any("apply" in c for c in fake.commands(host))


async def test_upgrade_master_with_a_failing_gate_stops(fake: FakeRemote) -> None:
    host = M[1]
    node = Cluster(fake, host, helper=M[0])
    fake.write(host, APISERVER_MANIFEST, manifest(NEW))  # its control plane is done
    fake.on(["kubeadm", "upgrade", "node"], host=host)
    fake.on([*ETCDCTL, "--command-timeout", "5s", "endpoint", "health"], host=host, read=True,
            exit_status=1, stderr="context deadline exceeded")  # fmt: skip
    readyz(fake, host, 0)
    target = make_target(fake, cluster(), running(cluster()))

    import sealer.steps.upgrade_host as upgrade_host

    saved = upgrade_host.GATE_TIMEOUT
    upgrade_host.GATE_TIMEOUT = 0.0  # one look, no waiting
    try:
        with pytest.raises(StepError, match=r"etcd member on 10\.9\.0\.3 to be healthy; last: "
                           "context deadline exceeded"):  # fmt: skip
            await UpgradeMaster(target, host, UpgradeMasterPayload(node.name, SETTINGS)).run(CTX)
    finally:
        upgrade_host.GATE_TIMEOUT = saved
    assert ("kubeadm", "upgrade", "node") not in fake.commands(host)
    assert node.version == NEW and not node.cordoned


async def test_upgrade_node_drain_refused_by_a_pdb_leaves_it_cordoned(fake: FakeRemote) -> None:
    host = N[0]
    node = Cluster(fake, host, helper=M[0])
    fake.on_prefix([*KUBECTL, "drain", node.name], host=M[0], exit_status=1,
                   stderr="error when evicting pods/web-0: Cannot evict pod as it would violate "
                   "the pod's disruption budget.")  # fmt: skip
    target = make_target(fake, cluster(), running(cluster()))

    with pytest.raises(StepError, match=r"left cordoned .* disruption budget"):
        await UpgradeNode(target, host, UpgradeNodePayload(node.name, SETTINGS)).run(CTX)
    assert node.version == VERSION and node.cordoned
    assert not any(c.argv[:2] == ("systemctl", "restart") for c in fake.calls)
