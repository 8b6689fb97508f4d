"""The emulated network readiness chain, piece by piece: the runtime's CNI configuration check,
the not-ready taint, the DaemonSet controller's tolerations, the add-on's pod mapped to the
emulated agent, and the agent writing the configuration into its hostPath mount."""

from __future__ import annotations

import datetime
import json
import os
import subprocess
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from sealer_lab import addons
from sealer_lab.emulate import cninet, podrun, runtime
from sealer_lab.emulate.apiserver.daemonsets import daemon_tolerations, tolerates
from sealer_lab.emulate.apiserver.lifecycle import apply_node_lifecycle
from tests.waiting import wait_for

NOW = datetime.datetime(2026, 12, 2, 5, 0, tzinfo=datetime.UTC)
NOT_READY = {"key": "node.kubernetes.io/not-ready", "effect": "NoSchedule"}


def test_the_network_is_ready_only_with_a_valid_cni_configuration(tmp_path: Path) -> None:
    assert not cninet.network_ready(tmp_path / "absent")
    assert not cninet.network_ready(tmp_path)
    (tmp_path / "00-broken.conflist").write_text("{not json")
    (tmp_path / "05-empty.conflist").write_text(json.dumps({"name": "x", "plugins": []}))
    (tmp_path / "07-notes.txt").write_text(json.dumps({"name": "x", "type": "bridge"}))
    assert not cninet.network_ready(tmp_path)
    good = tmp_path / "10-calico.conflist"
    good.write_text(json.dumps({"name": "k8s-pod-network", "plugins": [{"type": "calico"}]}))
    assert cninet.network_config(tmp_path) == good


def _node(ready: str, taints: list[dict[str, str]] | None = None) -> dict[str, Any]:
    stamp = NOW.strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "metadata": {"name": "n1"},
        "spec": {"taints": taints} if taints else {},
        "status": {
            "conditions": [
                {
                    "type": "Ready",
                    "status": ready,
                    "lastHeartbeatTime": stamp,
                    "lastTransitionTime": stamp,
                }
            ]
        },
    }


def test_a_not_ready_node_is_tainted_until_it_is_ready() -> None:
    lease = {"spec": {"renewTime": NOW.strftime("%Y-%m-%dT%H:%M:%S.%fZ")}}
    seen = apply_node_lifecycle(_node("False"), lease, NOW)
    assert [{k: t[k] for k in ("key", "effect")} for t in seen["spec"]["taints"]] == [NOT_READY]
    # a client that wrote the taint back with the Node does not keep it once Ready
    control = {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}
    ready = apply_node_lifecycle(_node("True", [control, NOT_READY]), lease, NOW)
    assert ready["spec"]["taints"] == [control]


def test_daemon_pods_reach_a_not_ready_node_only_when_they_tolerate_it() -> None:
    added = daemon_tolerations(host_network=True)
    assert not tolerates(added, [NOT_READY])  # the controller adds NoExecute, not NoSchedule
    assert tolerates(added, [{"key": "node.kubernetes.io/not-ready", "effect": "NoExecute"}])
    everything = [{"effect": "NoSchedule", "operator": "Exists"}, *added]
    assert tolerates(everything, [NOT_READY])
    equal = [{"key": "dedicated", "operator": "Equal", "value": "infra", "effect": "NoSchedule"}]
    assert tolerates(equal, [{"key": "dedicated", "value": "infra", "effect": "NoSchedule"}])
    assert not tolerates(equal, [{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}])
    assert tolerates([], [{"key": "soft", "effect": "PreferNoSchedule"}])


def _calico_pod() -> dict[str, Any]:
    docs = list(YAML(typ="safe").load_all(addons.CALICO.text.replace("@POD_CIDR@", "10.9.0.0/16")))
    ds = next(d for d in docs if d["kind"] == "DaemonSet")
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "calico-node-abcde", "namespace": "kube-system"},
        "spec": {**ds["spec"]["template"]["spec"], "nodeName": "n1"},
    }


def test_the_add_on_pod_runs_the_emulated_agent_which_writes_the_configuration(
    tmp_path: Path,
) -> None:
    plan = podrun.plan_pod(_calico_pod(), "n1", static=False)
    assert plan.pod == "calico-node-abcde" and not plan.error
    assert plan.argv[1:] == ("-m", "sealer_lab.emulate.cniplugin")
    env = dict(plan.env)
    assert json.loads(env["SEALER_LAB_MOUNTS"]) == {"/host/etc/cni/net.d": "/etc/cni/net.d"}
    assert env["CNI_CONF_NAME"] == "10-calico.conflist"

    conf_dir = tmp_path / "net.d"
    env["SEALER_LAB_MOUNTS"] = json.dumps({"/host/etc/cni/net.d": str(conf_dir)})
    agent = subprocess.Popen(
        list(plan.argv),
        env={**os.environ, **env, "PYTHONPATH": runtime.code_root()},
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        written = wait_for(
            "the agent's CNI configuration", lambda: cninet.network_config(conf_dir), 60
        )
        conf = json.loads(written.read_text())
        assert conf["plugins"][0]["ipam"]["ranges"] == [[{"subnet": "10.9.0.0/16"}]]
        assert agent.poll() is None  # the agent keeps running, as calico-node does
    finally:
        agent.terminate()
        agent.wait(30)


def test_an_api_pod_is_restarted_for_a_new_spec_only() -> None:
    pod = {**_calico_pod(), "status": {"phase": "Pending"}}
    pod["metadata"] = {**pod["metadata"], "uid": "u1", "resourceVersion": "5"}
    first = podrun.plan_pod(pod, "n1", static=False)
    posted = {**pod, "status": {"phase": "Running"}}
    posted["metadata"] = {**pod["metadata"], "resourceVersion": "6"}
    assert podrun.plan_pod(posted, "n1", static=False).digest == first.digest
    recreated = {**pod, "metadata": {**pod["metadata"], "uid": "u2"}}
    assert podrun.plan_pod(recreated, "n1", static=False).digest != first.digest
