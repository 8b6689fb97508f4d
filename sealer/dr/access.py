"""``sealer kubeconfig``: a kubeconfig for the workstation.

The server is the first master of the file whose API server is ready, by its address (not the
node-local VIP nor the in-cluster API domain, which resolve only on the cluster's hosts), or
``--server``. The API server certificate of that master must cover the server's host; if it
does not, the error says which SAN to add. By default the kubeconfig carries the cluster's
admin credentials (``/etc/kubernetes/admin.conf``); with a user, a new client certificate for
that user and groups, signed by the cluster CA and valid for a short time.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from cryptography import x509

from sealer.connect import Remote
from sealer.dr.backup import Healthy
from sealer.errors import KubeError, PlanError, SealerError, UsageError
from sealer.facts import collect
from sealer.facts.cluster_ca import read_ca
from sealer.facts.health import api_ready
from sealer.kube.kubeconfig import build_kubeconfig, parse_kubeconfig
from sealer.kube.pki import endpoint
from sealer.layout import ADMIN_CONF, PKI_DIR
from sealer.plan.access import host_access
from sealer.spec.model import Cluster

__all__ = [
    "Issued",
    "admin_kubeconfig",
    "covers",
    "first_ready_master",
    "parse_ttl",
    "server_host",
    "user_kubeconfig",
]

_TTL = re.compile(r"^(\d+)([smhd])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
#: The longest ``--ttl``: a credential nobody can revoke (Kubernetes has no certificate
#: revocation) must not outlive a working week.
MAX_TTL = dt.timedelta(days=7)


@dataclass(frozen=True)
class Issued:
    kubeconfig: bytes = field(repr=False)
    server: str
    user: str
    groups: tuple[str, ...]
    not_after: dt.datetime | None  # None: the admin credentials, as long-lived as admin.conf


def parse_ttl(text: str) -> dt.timedelta:
    """``90s``, ``30m``, ``24h``, ``7d``: at least 1 second, at most :data:`MAX_TTL`."""
    match = _TTL.match(text.strip())
    if match is None:
        raise UsageError(f"--ttl {text!r}: a number and a unit s, m, h or d (24h, 30m, 7d)")
    ttl = dt.timedelta(seconds=int(match.group(1)) * _UNITS[match.group(2)])
    if ttl < dt.timedelta(seconds=1) or ttl > MAX_TTL:
        raise UsageError(f"--ttl {text}: between 1s and {MAX_TTL.days}d")
    return ttl


async def first_ready_master(conns: Remote, cluster: Cluster, connect_timeout: float) -> Healthy:
    said = []
    for address in cluster.spec.master_addresses:
        access = host_access(cluster, address, connect_timeout=connect_timeout)
        try:
            health = await collect(conns, access, api_ready)
        except SealerError as exc:
            said.append(f"{address}: {exc}")
            continue
        if health.ok:
            return Healthy(address, access)
        said.append(f"{address}: {health.detail}")
    raise PlanError(
        f"cluster {cluster.metadata.name}: no master's API server is ready: " + "; ".join(said)
    )


def server_host(server: str) -> str:
    host = urlsplit(server).hostname
    if urlsplit(server).scheme != "https" or not host:
        raise UsageError(f"--server {server!r}: an https:// URL (https://10.0.0.2:6443)")
    return host


def covers(cert: x509.Certificate, host: str) -> bool:
    """Whether the certificate's SANs hold ``host`` (an IP address or a DNS name; a
    ``*.example.com`` SAN covers one label)."""
    try:
        sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return False
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        ip = None
    if ip is not None:
        return ip in sans.get_values_for_type(x509.IPAddress)
    name = host.lower().rstrip(".")
    for san in sans.get_values_for_type(x509.DNSName):
        san = san.lower().rstrip(".")
        if san == name or (san.startswith("*.") and name.partition(".")[2] == san[2:]):
            return True
    return False


async def _server(conns: Remote, master: Healthy, server: str | None) -> str:
    url = server or "https://" + endpoint(master.address)
    host = server_host(url)
    pem = await conns.read_file(master.access, f"{PKI_DIR}/apiserver.crt")
    if pem is None:
        raise KubeError(f"{master.address}: {PKI_DIR}/apiserver.crt is missing")
    if not covers(x509.load_pem_x509_certificate(pem), host):
        raise KubeError(
            f"{master.address}: the API server certificate does not cover {host}, so a client "
            f"of {url} would refuse it",
            hint=f"add {host} to spec.network.certSANs and run `sealer certs renew "
            f"--add-san {host}`, or choose another --server",
        )
    return url


async def admin_kubeconfig(
    conns: Remote, cluster: Cluster, master: Healthy, server: str | None
) -> Issued:
    url = await _server(conns, master, server)
    data = await conns.read_file(master.access, ADMIN_CONF)
    if data is None:
        raise KubeError(f"{master.address}: {ADMIN_CONF} is missing")
    info = parse_kubeconfig(data, f"{master.address}:{ADMIN_CONF}")
    if info.ca_cert_pem is None or info.client_cert_pem is None or info.client_key_pem is None:
        raise KubeError(f"{master.address}: {ADMIN_CONF} does not embed its certificates")
    kubeconfig = build_kubeconfig(
        cluster_name=cluster.metadata.name,
        server=url,
        ca_cert_pem=info.ca_cert_pem,
        user=info.user,
        client_cert_pem=info.client_cert_pem,
        client_key_pem=info.client_key_pem,
    )
    return Issued(kubeconfig, url, info.user, (), None)


async def user_kubeconfig(
    conns: Remote,
    cluster: Cluster,
    master: Healthy,
    server: str | None,
    user: str,
    groups: tuple[str, ...],
    ttl: dt.timedelta,
) -> Issued:
    """A new client certificate for ``user`` in ``groups``, valid ``ttl``, from the cluster
    CA (read into memory from the master, never written anywhere)."""
    url = await _server(conns, master, server)
    ca = await read_ca(conns, master.access)
    pair = ca.issue("ca", user, organizations=groups, client_auth=True, lifetime=ttl)
    kubeconfig = build_kubeconfig(
        cluster_name=cluster.metadata.name,
        server=url,
        ca_cert_pem=ca.ca.cert_pem(),
        user=user,
        client_cert_pem=pair.cert_pem(),
        client_key_pem=pair.key_pem(),
    )
    return Issued(kubeconfig, url, user, groups, pair.cert.not_valid_after_utc)
