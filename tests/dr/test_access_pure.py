"""``sealer kubeconfig`` (pure parts): --ttl, SAN coverage, short-lived client certificates."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography import x509

from sealer.dr.access import MAX_TTL, covers, parse_ttl, server_host
from sealer.errors import KubeError, UsageError
from sealer.kube.pki import ClusterCA
from tests.clusters import cluster


def test_ttl() -> None:
    assert parse_ttl("24h") == dt.timedelta(hours=24)
    assert parse_ttl("90s") == dt.timedelta(seconds=90)
    assert parse_ttl("7d") == MAX_TTL
    for bad in ("8d", "0s", "1w", "h", "-1h", ""):
        with pytest.raises(UsageError, match="--ttl"):
            parse_ttl(bad)


def test_server_host() -> None:
    assert server_host("https://10.0.0.2:6443") == "10.0.0.2"
    assert server_host("https://[fd00::2]:6443") == "fd00::2"
    with pytest.raises(UsageError, match="an https:// URL"):
        server_host("http://10.0.0.2:6443")


def _ca() -> ClusterCA:
    return ClusterCA.generate(cluster().spec)


def test_covers_ips_names_and_one_wildcard_label() -> None:
    pair = _ca().issue("ca", "kube-apiserver", server_auth=True, years=1,
                       dns_names=["api.example.com", "*.lb.example.com"],
                       ip_addresses=["10.0.0.2"])  # fmt: skip
    cert = pair.cert
    assert covers(cert, "10.0.0.2")
    assert not covers(cert, "10.0.0.3")
    assert covers(cert, "API.example.com.")
    assert covers(cert, "a.lb.example.com")
    assert not covers(cert, "a.b.lb.example.com")
    assert not covers(cert, "example.com")


def test_short_lived_client_certificate() -> None:
    ca = _ca()
    now = dt.datetime(2026, 12, 2, 4, 0, tzinfo=dt.UTC)
    pair = ca.issue("ca", "dev", organizations=("team-a",), client_auth=True,
                    lifetime=dt.timedelta(hours=1), now=now)  # fmt: skip
    assert pair.cert.not_valid_after_utc == now + dt.timedelta(hours=1)
    assert pair.cert.subject.rfc4514_string() == "CN=dev,O=team-a"
    pair.cert.verify_directly_issued_by(ca.ca.cert)
    usage = pair.cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(usage) == [x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH]
    with pytest.raises(KubeError, match="give its years or its lifetime"):
        ca.issue("ca", "dev", client_auth=True)
    with pytest.raises(KubeError, match="give its years or its lifetime"):
        ca.issue("ca", "dev", client_auth=True, years=1, lifetime=dt.timedelta(hours=1))
