"""Valid Clusterfiles load (exit 0) and mean what they say."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sealer.errors import SealerError, SpecError
from sealer.spec import load_clusterfile, validate_text
from tests.spec.conftest import VALID, VALID_ENV, CliRunner

FILES = sorted(VALID.glob("*.yaml"))
WARNED = {"even-masters.yaml"}


def test_the_valid_files_are_there() -> None:
    names = {f.name for f in FILES}
    assert {
        "minimal.yaml",
        "full.yaml",
        "ipv6.yaml",
        "ranges.yaml",
        "overrides.yaml",
        "jump-host.yaml",
        "env-secrets.yaml",
        "even-masters.yaml",
        "dns-names.yaml",
    } <= names


@pytest.mark.parametrize("path", FILES, ids=[f.stem for f in FILES])
def test_valid_exit_0(path: Path, cli: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(VALID)
    run = cli(["validate", "-f", path.name])
    assert run.code == 0, run.err
    assert run.out.startswith(f"{path.name}: valid: cluster ")
    if path.name not in WARNED:
        assert run.err == ""


def test_even_masters_is_a_warning_not_an_error(
    cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(VALID)
    run = cli(["validate", "-f", "even-masters.yaml"])
    assert run.code == 0
    assert run.err_lines == [
        "warning: even-masters.yaml:8:3: spec.masters: 2 masters: etcd tolerates no more "
        "failures than with 1; an odd number is recommended"
    ]
    assert (
        run.out
        == "even-masters.yaml: valid: cluster even, Kubernetes v1.29.3, 2 master(s), 0 node(s)\n"
    )
    as_json = json.loads(cli(["validate", "-f", "even-masters.yaml", "-O", "json"]).out)
    assert as_json["valid"] is True
    assert [p["severity"] for p in as_json["problems"]] == ["warning"]
    assert as_json["masters"] == ["10.0.0.11", "10.0.0.12"]


def test_json_output_of_a_valid_file(cli: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(VALID)
    run = cli(["validate", "-f", "ipv6.yaml", "--output", "json"])
    assert run.code == 0 and run.err == ""
    assert json.loads(run.out) == {
        "file": "ipv6.yaml",
        "valid": True,
        "problems": [],
        "masters": ["fd00:10::11", "fd00:10::12", "fd00:10::13"],
        "nodes": [],
        "version": "v1.29.3",
    }


def _load(name: str) -> object:
    return load_clusterfile(VALID / name, env=VALID_ENV).cluster


def test_minimal_gets_every_default() -> None:
    spec = load_clusterfile(VALID / "minimal.yaml", env={}).cluster.spec
    assert spec.master0 == "10.0.0.11"
    assert spec.nodes == []
    assert spec.vip == "10.103.97.2"
    assert spec.package.source == "/opt/kube1.29.3.tar.gz"  # the string shorthand
    assert spec.package.sha256 is None
    assert (spec.ssh.user, spec.ssh.port, spec.ssh.agent, spec.ssh.sudo) == (
        "root",
        22,
        False,
        False,
    )
    assert spec.ssh.private_key == "/root/.ssh/id_ed25519"
    net = spec.network
    assert (net.pod_cidr, net.service_cidr) == ("100.64.0.0/10", "10.96.0.0/16")
    assert (net.api_server_domain, net.dns_domain) == ("apiserver.cluster.local", "cluster.local")
    lb = spec.load_balancer
    assert (lb.backend, lb.interval, lb.timeout, lb.fall, lb.rise) == ("auto", 5, 2, 2, 2)
    assert (spec.certificates.validity_years, spec.certificates.key_algorithm) == (99, "rsa-2048")


def test_full_file_values() -> None:
    spec = load_clusterfile(VALID / "full.yaml", env={}).cluster.spec
    assert spec.package.sha256 == "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
    assert spec.ssh.passphrase is not None
    assert spec.ssh.passphrase.get_secret_value() == "${not-a-variable}"  # $$ is a literal $
    assert spec.ssh.jump_host is not None and spec.ssh.jump_host.port == 22022
    node = spec.ssh_for("192.168.10.21")
    assert (node.user, node.port, node.sudo, node.agent) == ("root", 22, False, True)
    assert spec.ssh_for("192.168.10.22").user == "deploy"
    taints = spec.override_for("192.168.10.21").taints
    assert [(t.key, t.value, t.effect) for t in taints] == [
        ("dedicated", "db", "NoExecute"),
        ("gpu", "", "NoSchedule"),
    ]
    assert spec.kubeadm.kubelet_configuration == {"maxPods": 200}


def test_env_secrets_are_expanded_only_in_secret_fields() -> None:
    spec = load_clusterfile(VALID / "env-secrets.yaml", env=VALID_ENV).cluster.spec
    assert spec.ssh.password is not None
    assert spec.ssh.password.get_secret_value() == "env-Pa55-word"
    jump = spec.ssh.jump_host
    assert jump is not None and jump.passphrase is not None
    assert jump.passphrase.get_secret_value() == "pre-${SEALER_TEST_SSH_PASSWORD}-env-Pa55-word"
    # the secret is hidden in the model's text forms
    assert "env-Pa55-word" not in repr(spec) and "env-Pa55-word" not in str(spec)


def test_env_secret_unset_is_an_error_naming_the_variable() -> None:
    with pytest.raises(SpecError) as caught:
        load_clusterfile(VALID / "env-secrets.yaml", env={})
    assert [str(p) for p in caught.value.problems] == [
        f"{VALID / 'env-secrets.yaml'}:13:15: spec.ssh.password: "
        "environment variable SEALER_TEST_SSH_PASSWORD is not set",
        f"{VALID / 'env-secrets.yaml'}:18:19: spec.ssh.jumpHost.passphrase: "
        "environment variable SEALER_TEST_SSH_PASSWORD is not set",
    ]


def test_dollar_outside_secret_fields_is_kept() -> None:
    text = (
        (VALID / "minimal.yaml")
        .read_text()
        .replace("/opt/kube1.29.3.tar.gz", "/opt/${HOME}/kube.tar.gz")
    )
    cluster, problems = validate_text(text, "x.yaml", env={})
    assert problems == []
    assert cluster is not None and cluster.spec.package.source == "/opt/${HOME}/kube.tar.gz"


def test_ranges_expand_inclusively() -> None:
    spec = load_clusterfile(VALID / "ranges.yaml", env={}).cluster.spec
    assert spec.master_addresses == ["10.0.0.11", "10.0.0.12", "10.0.0.13"]
    assert len(spec.node_addresses) == 256 + 1 + 12
    assert spec.node_addresses[:2] == ["10.0.1.0", "10.0.1.1"]
    assert spec.node_addresses[256] == "10.0.2.7"
    assert spec.node_addresses[-8:-6] == ["10.0.3.254", "10.0.3.255"]
    assert spec.node_addresses[-1] == "10.0.4.5"
    assert spec.override_for("10.0.1.7").labels == {"disk": "ssd"}


def test_ipv6_and_dns_names_are_normalised() -> None:
    v6 = load_clusterfile(VALID / "ipv6.yaml", env={}).cluster.spec
    assert v6.master_addresses[2] == "fd00:10::13"
    assert v6.override_for("fd00:10::13").labels == {"zone": "b"}  # key written fd00:10:0::13
    names = load_clusterfile(VALID / "dns-names.yaml", env={}).cluster.spec
    assert names.node_addresses == [
        "worker-0.example.com",
        "worker-1.example.com",
        "10.0.0.1-x.example.com",
    ]
    assert names.override_for("worker-0.example.com").labels == {"zone": "a"}
    assert names.override_for("worker-1.example.com").labels == {"zone": "b"}


def test_per_host_ssh_overrides() -> None:
    spec = load_clusterfile(VALID / "overrides.yaml", env={}).cluster.spec
    master = spec.ssh_for("10.0.0.11")
    assert (master.user, master.sudo, master.private_key, master.password) == (
        "admin",
        True,
        "/root/.ssh/master",
        None,
    )
    node = spec.ssh_for("10.0.0.21")
    assert node.port == 2200 and node.password is not None
    named = spec.ssh_for("node22.example.com")
    assert (named.user, named.sudo, named.agent) == ("root", False, True)
    assert spec.role_of("10.0.0.11") == "master" and spec.role_of("10.0.0.21") == "node"


def test_jump_host_without_credentials_is_valid() -> None:
    spec = load_clusterfile(VALID / "jump-host.yaml", env={}).cluster.spec
    jump = spec.ssh.jump_host
    assert jump is not None
    assert (jump.host, jump.port, jump.user) == ("203.0.113.5", 22, "root")
    assert (jump.password, jump.private_key, jump.passphrase) == (None, None, None)


def test_private_key_existence_is_not_checked_by_validate(tmp_path: Path) -> None:
    text = (
        (VALID / "minimal.yaml")
        .read_text()
        .replace("/root/.ssh/id_ed25519", str(tmp_path / "no-such-key"))
    )
    cluster, problems = validate_text(text, "x.yaml", env={})
    assert cluster is not None and problems == []


def test_missing_unreadable_files_are_one_line_errors(cli: CliRunner, tmp_path: Path) -> None:
    run = cli(["validate", "-f", str(tmp_path / "nope.yaml")])
    assert run.code == 1
    assert run.err_lines == [
        f"error: {tmp_path / 'nope.yaml'}: no such Clusterfile",
        "  hint: pass it with -f FILE",
    ]
    run = cli(["validate", "-f", str(tmp_path)])
    assert run.code == 1 and run.err_lines == [
        f"error: {tmp_path}: is a directory, not a Clusterfile"
    ]
    latin1 = tmp_path / "latin1.yaml"
    latin1.write_bytes(b"name: caf\xe9\n")
    run = cli(["validate", "-f", str(latin1)])
    assert run.code == 1 and run.err_lines == [f"error: {latin1}: is not UTF-8 text"]
    with pytest.raises(SealerError):
        load_clusterfile(tmp_path / "nope.yaml")


def test_layout_the_round_trip_reader_trips_on() -> None:
    """ruamel's round-trip reader asserts on this valid file; the safe reader takes over."""
    spec = load_clusterfile(VALID / "comment-before-block-scalar.yaml", env={}).cluster.spec
    assert spec.package.source == "/opt/kube1.29.3.tar.gz"
