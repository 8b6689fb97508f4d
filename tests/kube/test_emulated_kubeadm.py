"""Cross-check with the lab's emulated kubeadm (an extra check beside the documented types).

The emulator decodes config files with kubeadm's strictness and runs kubeadm's certs phase
(keep what exists and is valid, generate what is missing). sealer's files must go through
with no warning and nothing regenerated.
"""

from __future__ import annotations

import pytest

from sealer.kube.kubeadm_config import JoinSecrets, KubeadmHostFacts, render_kubeadm_config
from sealer_lab.emulate.kubeadm.certs import ensure_certs
from sealer_lab.emulate.kubeadm.config import decode_documents
from sealer_lab.emulate.kubeadm.settings import Settings
from sealer_lab.emulate.versions import parse_version
from tests.kube.conftest import MASTERS, NODES, Issued, MakeCluster

SECRETS = JoinSecrets("abcdef.0123456789abcdef", ("sha256:" + "e" * 64,))


@pytest.mark.parametrize("version", ["v1.28.9", "v1.29.3", "v1.30.2", "v1.31.2", "v1.32.1"])
def test_emulated_kubeadm_decodes_every_host_config_without_warnings(
    make_cluster: MakeCluster, version: str, capsys: pytest.CaptureFixture[str]
) -> None:
    cluster = make_cluster(
        version,
        kubeadm={"kubeletConfiguration": {"maxPods": 150}},
        hosts={NODES[0]: {"taints": [{"key": "gpu", "effect": "NoSchedule"}]}},
    )
    kubeadm = parse_version(version)
    assert kubeadm is not None
    for address in (MASTERS[0], MASTERS[1], NODES[0]):
        rendered = render_kubeadm_config(cluster, address, KubeadmHostFacts(hostname="h1"), SECRETS)
        config = decode_documents(rendered.to_yaml(), kubeadm)
        assert config.kinds == [d["kind"] for d in rendered.documents]
        assert config.api_version == rendered.api_version
    assert capsys.readouterr().err == ""


def test_emulated_certs_phase_keeps_every_sealer_certificate(issued: Issued) -> None:
    cluster, ca, _, root = issued
    if ca.key_algorithm != "rsa-2048":
        pytest.skip("the lab's emulated kubeadm reads RSA keys only")
    version = parse_version(cluster.spec.version)
    assert version is not None
    settings = Settings(
        version=version,
        kubeadm=version,
        node_name="master-1",
        advertise_address=MASTERS[0],
        control_plane_endpoint="apiserver.cluster.local:6443",
        service_subnet=cluster.spec.network.service_cidr,
        cert_sans=["127.0.0.1", "localhost", *MASTERS, cluster.spec.vip],
        cert_dir=root / "pki",
    )
    lines = ensure_certs(settings)
    assert not [line for line in lines if "Generating" in line], lines
    assert sum("Using existing" in line for line in lines) == 3 + 7
