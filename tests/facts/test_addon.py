"""The network add-on record (ConfigMap kube-system/sealer-cni)."""

from __future__ import annotations

import json

import pytest

from sealer.connect import Result
from sealer.facts.addon import AppliedAddon, parse_applied_addon
from sealer.facts.base import UnexpectedExit


def result(stdout: str, exit_status: int = 0, stderr: str = "") -> Result:
    return Result(exit_status, stdout, stderr)


def test_the_record_is_read() -> None:
    doc = {
        "kind": "ConfigMap",
        "metadata": {"name": "sealer-cni", "namespace": "kube-system"},
        "data": {"type": "calico", "sha256": "ab" * 32, "manifest": "manifests/calico.yaml"},
    }
    assert parse_applied_addon(result(json.dumps(doc))) == AppliedAddon(
        "calico", "ab" * 32, "manifests/calico.yaml"
    )


def test_no_configmap_is_no_record_and_an_error_is_raised() -> None:
    assert parse_applied_addon(result("")) is None
    with pytest.raises(UnexpectedExit):
        parse_applied_addon(result("", 1, "The connection to the server was refused"))
    with pytest.raises(ValueError, match="lacks type or sha256"):
        parse_applied_addon(result(json.dumps({"kind": "ConfigMap", "data": {"type": "x"}})))
