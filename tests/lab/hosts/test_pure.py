"""Pure parts of the lab (no root needed): names, subnet choice, Clusterfile, sshd config."""

from __future__ import annotations

from pathlib import Path

import pytest
from ruamel.yaml import YAML

from sealer.errors import LabError
from sealer_lab.clusterfile import render_clusterfile
from sealer_lab.hostinit import _missing_ancestor_roots
from sealer_lab.sshd import render_sshd_config
from sealer_lab.state import (
    HostState,
    LabState,
    bridge_name,
    host_netns_pattern,
    validate_lab_name,
    veth_name,
)
from sealer_lab.subnet import first_free


def test_kernel_names_fit_and_derive_from_the_lab_name() -> None:
    name = "a" * 30
    assert len(bridge_name(name)) <= 15
    assert len(veth_name(name, "10.200.0.254")) <= 15
    assert bridge_name("lab") == bridge_name("lab") != bridge_name("lab2")


def test_netns_pattern_does_not_reach_into_a_lab_with_a_longer_name() -> None:
    pattern = host_netns_pattern("a")
    assert pattern.fullmatch("sealer-a-master-1")
    assert pattern.fullmatch("sealer-a-node-12")
    assert not pattern.fullmatch("sealer-a-b-master-1")
    assert not pattern.fullmatch("sealer-ab-node-1")


@pytest.mark.parametrize("bad", ["", "Lab", "1lab", "lab-", "la--b", "a" * 31, "lab_1", "l b"])
def test_bad_lab_names(bad: str) -> None:
    with pytest.raises(LabError):
        validate_lab_name(bad)


def test_first_free_skips_routes_and_claims() -> None:
    assert first_free([]) == "10.200.0.0/24"
    assert first_free(["10.200.0.0/24", "10.200.1.7/32"]) == "10.200.2.0/24"
    assert first_free(["10.200.0.0/23", "192.168.0.0/16"]) == "10.200.2.0/24"
    assert first_free(["10.200.0.0/15"]) == "10.202.0.0/24"
    with pytest.raises(LabError):
        first_free(["10.0.0.0/8"])


def _state(ports: dict[str, int] | None = None) -> LabState:
    ports = ports or {}
    hosts = [
        HostState(
            name=f"x-{role}-{i}",
            role=role,  # type: ignore[arg-type]
            index=i,
            address=addr,
            netns=f"sealer-x-{role}-{i}",
            veth="v",
            ssh_port=ports.get(addr, 22),
        )
        for role, i, addr in [
            ("master", 1, "10.200.0.2"),
            ("node", 1, "10.200.0.3"),
            ("master", 2, "10.200.0.4"),
        ]
    ]
    return LabState(
        name="x",
        lab_id="abc123",
        subnet="10.200.0.0/24",
        bridge="slab-abc123",
        nft_table="t",
        version="v1.29.3",
        hosts=tuple(hosts),
    )


def test_clusterfile_has_exactly_the_contract_fields() -> None:
    doc = YAML(typ="safe").load(render_clusterfile(_state(), Path("/l/x")))
    assert doc == {
        "apiVersion": "sealer.dev/v1alpha1",
        "kind": "Cluster",
        "metadata": {"name": "x"},
        "spec": {
            "version": "v1.29.3",
            "masters": ["10.200.0.2", "10.200.0.4"],
            "nodes": ["10.200.0.3"],
            "package": {"source": "/l/x/kube1.29.3.tar.gz"},
            "ssh": {
                "user": "root",
                "privateKey": "/l/x/id_ed25519",
                "knownHosts": "/l/x/known_hosts",
            },
        },
    }


def test_clusterfile_per_host_port_override() -> None:
    text = render_clusterfile(_state({"10.200.0.3": 2222}), Path("/l/x"))
    assert "masters: [10.200.0.2, 10.200.0.4]" in text
    doc = YAML(typ="safe").load(text)
    assert doc["spec"]["hosts"] == {"10.200.0.3": {"ssh": {"port": 2222}}}


def test_sshd_config_limits_and_auth() -> None:
    keyonly = render_sshd_config(port=22, password_login=False)
    assert "UsePAM no\n" in keyonly and "MaxSessions 64\n" in keyonly
    assert "PasswordAuthentication no\n" in keyonly
    assert "PermitRootLogin prohibit-password\n" in keyonly
    withpw = render_sshd_config(port=2222, password_login=True)
    assert "Port 2222\n" in withpw and "PasswordAuthentication yes\n" in withpw


def test_missing_mountpoints_overlay_their_nearest_existing_parent(tmp_path: Path) -> None:
    (tmp_path / "var/lib/etcd").mkdir(parents=True)
    (tmp_path / "opt").mkdir()
    targets = [
        str(tmp_path / "var/lib/etcd"),
        str(tmp_path / "var/lib/kubelet"),
        str(tmp_path / "opt/cni"),
        str(tmp_path / "opt/cni/bin/deep"),
    ]
    assert _missing_ancestor_roots(targets) == [str(tmp_path / "opt"), str(tmp_path / "var/lib")]
