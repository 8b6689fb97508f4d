"""cni against the fake: the record read first, the manifest and the record applied over SFTP
and kubectl, nothing when the record names this very manifest."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from sealer.engine.context import RunContext
from sealer.errors import StepError
from sealer.facts.addon import AppliedAddon, applied_addon
from sealer.kube.addon import DesiredAddon
from sealer.layout import ADMIN_CONF, CNI_MANIFEST_PATH, CNI_RECORD_PATH
from sealer.plan.payloads import CniPayload
from sealer.steps.cni import Cni
from tests.steps.builders import M, cluster, make_target, package, running
from tests.steps.fake_remote import FakeRemote, Upload, changed_argv

CTX = RunContext()
KUBECTL = ("kubectl", "--kubeconfig", ADMIN_CONF)
MANIFEST = "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: calico-node}\n"
ADDON = DesiredAddon("calico", "manifests/calico.yaml", MANIFEST, ("docker.io/calico/node:v3",))
PAYLOAD = CniPayload(ADDON.type, ADDON.manifest, ADDON.sha256)


def record(fake: FakeRemote, found: AppliedAddon | None) -> None:
    doc = {"kind": "ConfigMap", "data": found.to_data()} if found else None
    fake.on(applied_addon.argv, host=M[0], read=True, stdout=json.dumps(doc) if doc else "")


def step(fake: FakeRemote, tmp_path: Path) -> Cni:
    pkg = dataclasses.replace(package(tmp_path), addon=ADDON)
    target = make_target(fake, cluster(), running(cluster()), package_or_none=pkg)
    return Cni(target, M[0], PAYLOAD)


async def test_applies_the_manifest_then_records_it(fake: FakeRemote, tmp_path: Path) -> None:
    record(fake, None)
    fake.on(["mkdir", "-p", "/etc/kubernetes/sealer"], host=M[0])
    fake.on_prefix((*KUBECTL, "apply"), host=M[0], stdout="configured\n")

    outcome = await step(fake, tmp_path).run(CTX)

    assert outcome.changed and "calico" in outcome.reason
    assert changed_argv(fake) == [
        ("mkdir", "-p", "/etc/kubernetes/sealer"),
        (*KUBECTL, "apply", "-f", CNI_MANIFEST_PATH),
        (*KUBECTL, "apply", "-f", CNI_RECORD_PATH),
    ]
    uploads = {u.path: u for u in fake.uploads}
    assert uploads[CNI_MANIFEST_PATH] == Upload(M[0], CNI_MANIFEST_PATH, MANIFEST.encode(), 0o600)
    recorded = json.loads(uploads[CNI_RECORD_PATH].content)
    assert recorded["metadata"] == {
        "name": "sealer-cni",
        "namespace": "kube-system",
        "labels": {"app.kubernetes.io/managed-by": "sealer"},
    }
    assert recorded["data"] == {
        "type": "calico",
        "sha256": ADDON.sha256,
        "manifest": "manifests/calico.yaml",
    }


async def test_the_same_manifest_applied_is_unchanged(fake: FakeRemote, tmp_path: Path) -> None:
    record(fake, AppliedAddon("calico", ADDON.sha256, ADDON.manifest))

    outcome = await step(fake, tmp_path).run(CTX)

    assert not outcome.changed
    assert fake.changes() == []


async def test_another_manifest_of_the_same_type_is_applied_again(
    fake: FakeRemote, tmp_path: Path
) -> None:
    record(fake, AppliedAddon("calico", "0" * 64, ADDON.manifest))
    fake.on(["mkdir", "-p", "/etc/kubernetes/sealer"], host=M[0])
    fake.on_prefix((*KUBECTL, "apply"), host=M[0], stdout="configured\n")

    assert (await step(fake, tmp_path).run(CTX)).changed
    assert (*KUBECTL, "apply", "-f", CNI_MANIFEST_PATH) in changed_argv(fake)


async def test_another_add_on_type_is_refused_before_any_change(
    fake: FakeRemote, tmp_path: Path
) -> None:
    record(fake, AppliedAddon("flannel", "0" * 64, "manifests/flannel.yaml"))

    with pytest.raises(StepError, match="runs the flannel network add-on, not calico"):
        await step(fake, tmp_path).run(CTX)
    assert fake.changes() == []
