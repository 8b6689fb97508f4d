"""The API server version a master runs, from its static pod manifest."""

from __future__ import annotations

from pathlib import Path

from sealer.facts.upgrade import parse_manifest_version

FIXTURES = Path(__file__).parent / "fixtures"


def test_the_manifest_image_tag_is_the_api_server_version() -> None:
    text = (FIXTURES / "kube-apiserver.yaml").read_text()
    assert parse_manifest_version(text) == "v1.30.4"
    mirror = text.replace("registry.k8s.io/", "sealer.hub:5000/")
    assert parse_manifest_version(mirror) == "v1.30.4"
    quoted = text.replace(
        "image: registry.k8s.io/kube-apiserver:v1.30.4", 'image: "r/kube-apiserver:v1.31.0"'
    )
    assert parse_manifest_version(quoted) == "v1.31.0"


def test_no_manifest_or_another_image_is_none() -> None:
    assert parse_manifest_version(None) is None
    assert parse_manifest_version("") is None
    etcd = "spec:\n  containers:\n  - image: registry.k8s.io/etcd:3.5.12-0\n"
    assert parse_manifest_version(etcd) is None
