"""read_ca: the cluster's CA material from a master, the first missing file named."""

from __future__ import annotations

import pytest

from sealer.errors import KubeError
from sealer.facts.cluster_ca import MissingCAFile, read_ca
from sealer.kube.pki import CA_SOURCE_FILES, ClusterCA
from sealer.plan.access import host_access
from tests.steps.builders import M, cluster
from tests.steps.fake_remote import FakeRemote

HOST = M[0]


def holding(ca: ClusterCA, *, without: str = "") -> FakeRemote:
    fake = FakeRemote()
    for relative, file in ca.to_files().items():
        if relative != without:
            fake.write(HOST, f"/etc/kubernetes/{relative}", file.content, file.mode)
    return fake


async def test_it_reads_the_three_cas_and_the_service_account_key() -> None:
    ca = ClusterCA.generate(cluster().spec)
    fake = holding(ca)
    found = await read_ca(fake, host_access(cluster(), HOST))
    assert found.to_files() == ca.to_files()
    assert [path for _, _, path in fake.log] == [f"/etc/kubernetes/{p}" for p in CA_SOURCE_FILES]
    assert fake.calls == []  # file reads only, no command


async def test_a_missing_file_is_named_and_nothing_after_it_is_read() -> None:
    ca = ClusterCA.generate(cluster().spec)
    fake = holding(ca, without="pki/front-proxy-ca.key")
    with pytest.raises(MissingCAFile) as caught:
        await read_ca(fake, host_access(cluster(), HOST))
    assert caught.value.path == "/etc/kubernetes/pki/front-proxy-ca.key"
    assert caught.value.message == f"{HOST}: /etc/kubernetes/pki/front-proxy-ca.key is missing"
    assert fake.log[-1] == ("read", HOST, "/etc/kubernetes/pki/front-proxy-ca.key")


async def test_a_file_that_is_not_a_ca_is_a_kube_error_not_a_missing_file() -> None:
    ca = ClusterCA.generate(cluster().spec)
    fake = holding(ca)
    fake.write(HOST, "/etc/kubernetes/pki/etcd/ca.crt", b"not a certificate")
    with pytest.raises(KubeError) as caught:
        await read_ca(fake, host_access(cluster(), HOST))
    assert not isinstance(caught.value, MissingCAFile)
    assert "pki/etcd/ca.crt: not a PEM certificate" in caught.value.message
