"""``kubeadm join``: token discovery (JWS-verified cluster-info, pinned CA), TLS bootstrap via
the kubelet, and for ``--control-plane`` certificates, manifests and an etcd member add."""

from __future__ import annotations

import contextlib
import socket
import time
import urllib.parse
from pathlib import Path
from typing import Any

from sealer_lab.emulate import jws, kubeconfig, pki, yamlio
from sealer_lab.emulate.kubeadm import (
    apiobjects,
    certs,
    kubeconfigs,
    kubeletphase,
    manifests,
    preflight,
)
from sealer_lab.emulate.kubeadm.cluster import cluster_config
from sealer_lab.emulate.kubeadm.common import say
from sealer_lab.emulate.kubeadm.config import Config
from sealer_lab.emulate.kubeadm.errors import KubeadmError, PhaseError
from sealer_lab.emulate.kubeadm.etcdclient import EtcdClient, EtcdError, Member
from sealer_lab.emulate.kubeadm.settings import KUBE_DIR, Settings, resolve
from sealer_lab.emulate.kubeapi import ApiError, Client

__all__ = ["JoinRequest", "run_join"]


class JoinRequest:
    """What the command line / JoinConfiguration asked for."""

    def __init__(self, cfg: Config) -> None:
        self.cfg = cfg
        discovery = cfg.join.get("discovery") or {}
        bt = discovery.get("bootstrapToken") or {}
        self.endpoint = str(bt.get("apiServerEndpoint") or "")
        self.token = str(bt.get("token") or discovery.get("tlsBootstrapToken") or "")
        self.tls_token = str(discovery.get("tlsBootstrapToken") or self.token)
        self.hashes = [str(h) for h in bt.get("caCertHashes") or []]
        self.unsafe = bool(bt.get("unsafeSkipCAVerification"))
        self.control_plane = "controlPlane" in cfg.join and cfg.join["controlPlane"] is not None
        self.certificate_key = str((cfg.join.get("controlPlane") or {}).get("certificateKey") or "")
        self.timeout = _duration(str(discovery.get("timeout") or "")) or 10.0

    def validate(self) -> None:
        errors = []
        if not apiobjects.TOKEN_RE.match(self.token):
            errors.append(
                f'discovery.bootstrapToken.token: Invalid value: "{self.token}": the '
                "bootstrap token is invalid"
            )
            errors.append(
                f'discovery.tlsBootstrapToken: Invalid value: "{self.tls_token}": the '
                "bootstrap token is invalid"
            )
        if not self.hashes and not self.unsafe:
            errors.append(
                'discovery.bootstrapToken: Invalid value: "": using token-based '
                "discovery without caCertHashes can be unsafe. Set "
                "unsafeSkipCAVerification as true in your kubeadm config file or pass "
                "--discovery-token-unsafe-skip-ca-verification flag to continue"
            )
        if not self.endpoint:
            errors.append(
                'discovery.bootstrapToken.apiServerEndpoint: Invalid value: "": '
                "address  is not a valid IP address or hostname"
            )
        for h in self.hashes:
            if not h.startswith("sha256:") or len(h) != 71:
                errors.append(
                    f'discovery.bootstrapToken.caCertHashes: Invalid value: "{h}": '
                    'invalid hash "' + h + '", expected a "format:hex-value". Known '
                    "format(s) are: sha256"
                )
        if errors:
            raise KubeadmError("[" + ", ".join(errors) + "]")


def _duration(text: str) -> float:
    import re

    total = 0.0
    for number, unit in re.findall(r"(\d+(?:\.\d+)?)(h|m|s|ms)", text):
        total += float(number) * {"h": 3600, "m": 60, "s": 1, "ms": 0.001}[unit]
    return total


def discover(req: JoinRequest) -> tuple[str, bytes]:
    """Token discovery; returns (API server URL, CA PEM) of a trusted cluster."""
    tid, secret = req.token.split(".", 1)
    url = f"https://{req.endpoint}"
    say("[preflight] Running pre-flight checks")
    deadline = time.monotonic() + req.timeout
    last = ""
    while True:
        try:
            return _discover_once(req, url, tid, secret)
        except _Retry as exc:
            last = str(exc)
        if time.monotonic() > deadline:
            raise PhaseError(
                "preflight", f"couldn't validate the identity of the API Server: {last}"
            )
        time.sleep(1.0)


class _Retry(Exception):
    pass


def _discover_once(req: JoinRequest, url: str, tid: str, secret: str) -> tuple[str, bytes]:
    anon = Client(server=url, insecure=True, timeout=10.0)
    path = "/api/v1/namespaces/kube-public/configmaps/cluster-info"
    try:
        cm = anon.get(path)
    except ApiError as exc:
        if exc.status == 0:
            raise _Retry(f'Get "{url}{path}?timeout=10s": {exc.message}') from None
        raise _Retry(f"{exc.message}") from None
    data = cm.get("data") or {}
    content = data.get("kubeconfig", "")
    if not content:
        raise _Retry("there is no kubeconfig in the cluster-info ConfigMap")
    sig = data.get(f"jws-kubeconfig-{tid}")
    if not sig:
        raise _Retry(
            f'could not find a JWS signature in the cluster-info ConfigMap for token ID "{tid}"'
        )
    if not jws.verify(content, sig, tid, secret):
        raise PhaseError(
            "preflight",
            "couldn't validate the identity of the API Server: failed to verify JWS signature "
            "of received cluster info object, can't trust this API Server",
        )
    info = kubeconfig.parse(content)
    ca_pem = info.ca_pem
    if not req.unsafe:
        actual = pki.ca_cert_hash(x509_load(ca_pem))
        if actual not in req.hashes:
            raise PhaseError(
                "preflight",
                "couldn't validate the identity of the API Server: cluster CA found in "
                f'cluster-info ConfigMap is invalid: none of the public keys "{actual}" are '
                "pinned",
            )
    # Ask the discovery endpoint again, now validating TLS with the pinned CA, as kubeadm does.
    secure = Client(server=url, ca_pem=ca_pem, timeout=10.0)
    try:
        secure.get(path)
    except ApiError as exc:
        raise _Retry(f'Get "{url}{path}?timeout=10s": {exc.message}') from None
    say("[preflight] Reading configuration from the cluster...")
    # kubeadm bootstraps the kubelet against the server that cluster-info names (the
    # controlPlaneEndpoint), not against the discovery endpoint it was given
    # (cmd/kubeadm/app/discovery: For -> CreateWithToken(clusterinfo.Server, ...)).
    return info.server or url, ca_pem


def x509_load(pem: bytes):  # type: ignore[no-untyped-def]
    from cryptography import x509

    return x509.load_pem_x509_certificate(pem)


def run_join(req: JoinRequest) -> int:
    req.validate()
    url, ca_pem = discover(req)
    bootstrap = Client(server=url, ca_pem=ca_pem, token=req.token, timeout=10.0)
    try:
        cluster_cfg = cluster_config(bootstrap)
    except KubeadmError as exc:
        raise PhaseError("preflight", exc.message) from None
    cfg = Config(
        api_version=req.cfg.api_version or cluster_cfg.api_version,
        join=req.cfg.join,
        cluster=cluster_cfg.cluster,
        kubelet=cluster_cfg.kubelet,
    )
    s = resolve(cfg, joining=True)
    say(
        "[preflight] FYI: You can look at this config file with 'kubectl -n kube-system get cm "
        "kubeadm-config -o yaml'"
    )
    s.skip_phases = [str(x) for x in req.cfg.join.get("skipPhases") or []]
    local_etcd = not s.etcd_external
    if not s.skipped("preflight"):
        checks = preflight.node_checks(control_plane=req.control_plane)
        if req.control_plane:
            checks += preflight.control_plane_checks(s, local_etcd)[1:]
        say(preflight.run_checks(s, checks)[1:])
    if req.control_plane:
        if req.certificate_key:
            say(apiobjects.download_certs(bootstrap, req.certificate_key, s.cert_dir))
        if not s.control_plane_endpoint:
            raise _not_ready(
                "unable to add a new control plane instance to a cluster that doesn't have a "
                "stable controlPlaneEndpoint address"
            )
        failures = shared_cert_failures(s.cert_dir, local_etcd)
        if failures:
            raise _not_ready("[" + ", ".join(failures) + "]")
        say(certs.ensure_certs(s, local_etcd=local_etcd))
        say(kubeconfigs.ensure_kubeconfigs(s, kubelet=False))
        for name, manifest in manifests.control_plane_manifests(s).items():
            say(f'[control-plane] Creating static Pod manifest for "{name}"')
            manifests.write_manifest(name, manifest)
    else:
        pki.write_file(s.cert_dir / "ca.crt", ca_pem, 0o644)
    # kubelet-start: refuse a name a Ready node has, then TLS bootstrap with the token
    _check_node_name(bootstrap, s.node_name)
    boot = kubeconfig.Kubeconfig(
        server=url,
        ca_pem=ca_pem,
        user="tls-bootstrap-token-user",
        token=req.tls_token,
        cluster_name=s.cluster_name,
    )
    pki.write_file(KUBE_DIR / "bootstrap-kubelet.conf", kubeconfig.render(boot).encode(), 0o600)
    say(
        kubeletphase.write_kubelet_files(
            s, {**kubeletphase.kubelet_config(s), **s.kubelet_config} if s.kubelet_config else None
        )
    )
    say(kubeletphase.restart_kubelet())
    say("[kubelet-start] Waiting for the kubelet to perform the TLS Bootstrap...")
    if not _wait_file(KUBE_DIR / "kubelet.conf", 240.0):
        raise PhaseError("kubelet-start", "timed out waiting for the condition")
    (KUBE_DIR / "bootstrap-kubelet.conf").unlink(missing_ok=True)
    if req.control_plane:
        admin = Client.from_kubeconfig(kubeconfig.load(KUBE_DIR / "admin.conf"))
        admin = Client(
            server=url, ca_pem=admin.ca_pem, cert_pem=admin.cert_pem, key_pem=admin.key_pem
        )
        if local_etcd:
            say(_join_etcd(admin, s, url))
        say(apiobjects.mark_control_plane(admin, s))
        say(_control_plane_done())
    else:
        say(_node_done())
    return 0


def _check_node_name(c: Client, name: str) -> None:
    try:
        node = c.get(f"/api/v1/nodes/{name}")
    except ApiError:
        return  # not found (or not allowed to look): the join goes on
    conditions = (node.get("status") or {}).get("conditions") or []
    if any(x.get("type") == "Ready" and x.get("status") == "True" for x in conditions):
        raise PhaseError(
            "kubelet-start",
            f'a Node with name "{name}" and status "Ready" already exists in the cluster. You '
            "must delete the existing Node or change the name of this new joining Node",
        )


def _not_ready(error: str) -> PhaseError:
    return PhaseError(
        "preflight",
        "\nOne or more conditions for hosting a new control plane instance is not "
        f"satisfied.\n\n{error}\n\nPlease ensure that:\n* The cluster has a stable "
        "controlPlaneEndpoint address.\n* The certificates that must be shared among "
        "control plane instances are provided.\n\n",
    )


def shared_cert_failures(d: Path, local_etcd: bool) -> list[str]:
    """kubeadm's checks of the shared certificates: one failure per CA / key pair."""

    def missing(path: Path, what: str) -> str:
        return f"couldn't load the {what} file {path}: open {path}: no such file or directory"

    out = []
    pairs = [("ca", "CA"), ("front-proxy-ca", "front-proxy CA")]
    if local_etcd:
        pairs.append(("etcd/ca", "etcd CA"))
    for base, label in pairs[:1]:
        out += _pair_failure(d, base, label, missing)
    if not (d / "sa.key").is_file():
        out.append(
            "failure loading key for service account: " + missing(d / "sa.key", "private key")
        )
    elif not (d / "sa.pub").is_file():
        out.append(
            "failure loading key for service account: " + missing(d / "sa.pub", "public key")
        )
    for base, label in pairs[1:]:
        out += _pair_failure(d, base, label, missing)
    return out


def _pair_failure(d: Path, base: str, label: str, missing: Any) -> list[str]:
    crt, key = d / f"{base}.crt", d / f"{base}.key"
    if not crt.is_file():
        return [f"failure loading certificate for {label}: " + missing(crt, "certificate")]
    if not key.is_file():
        return [f"failure loading key for {label}: " + missing(key, "private key")]
    return []


def _wait_file(path: Path, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.is_file():
            return True
        time.sleep(0.2)
    return False


def etcd_endpoints(c: Client, fallback_host: str, timeout: float = 40.0) -> list[str]:
    """Client URLs of the cluster's etcd members, from the etcd static pods' annotations
    (retried while the mirror pods appear, as kubeadm does)."""
    deadline = time.monotonic() + timeout
    while True:
        urls = _etcd_endpoints_once(c)
        if urls or time.monotonic() > deadline:
            break
        time.sleep(1.0)
    if urls:
        return urls
    with contextlib.suppress(OSError):
        fallback_host = socket.gethostbyname(fallback_host)
    return [f"https://{fallback_host}:2379"]


def _etcd_endpoints_once(c: Client) -> list[str]:
    urls: list[str] = []
    try:
        pods = c.get(
            "/api/v1/namespaces/kube-system/pods",
            {"labelSelector": "component=etcd,tier=control-plane"},
        ).get("items", [])
    except ApiError:
        pods = []
    for pod in pods:
        labels = (pod.get("metadata") or {}).get("labels") or {}
        if labels.get("component") != "etcd":
            continue
        ann = (pod.get("metadata") or {}).get("annotations") or {}
        url = ann.get("kubeadm.kubernetes.io/etcd.advertise-client-urls")
        if url:
            urls.append(url)
    return urls


def _join_etcd(c: Client, s: Settings, url: str) -> list[str]:
    host = urllib.parse.urlsplit(url).hostname or ""
    endpoints = etcd_endpoints(c, host)
    client = EtcdClient(
        tuple(endpoints),
        s.cert_dir / "etcd" / "ca.crt",
        s.cert_dir / "apiserver-etcd-client.crt",
        s.cert_dir / "apiserver-etcd-client.key",
    )
    ip = f"[{s.advertise_address}]" if ":" in s.advertise_address else s.advertise_address
    peer = f"https://{ip}:2380"
    out = ["[etcd] Announced new etcd member joining to the existing etcd cluster"]
    try:
        members = _add_member(client, peer)
    except EtcdError as exc:
        raise PhaseError(
            "control-plane-join/etcd", f"error creating local etcd static pod manifest file: {exc}"
        ) from None
    initial = ",".join(f"{m.name or s.node_name}={m.peer_urls[0]}" for m in members if m.peer_urls)
    manifests.write_manifest("etcd", manifests.etcd_manifest(s, initial, existing=True))
    out.append('[etcd] Creating static Pod manifest for "etcd"')
    out.append(
        "[etcd] Waiting for the new etcd member to join the cluster. This can take up to 40s"
    )
    deadline = time.monotonic() + 120
    local = EtcdClient((f"https://{ip}:2379",), client.ca, client.cert, client.key, 3.0)
    while time.monotonic() < deadline:
        try:
            if any(m.name == s.node_name for m in local.members()):
                return out
        except EtcdError:
            pass
        time.sleep(1.0)
    raise PhaseError(
        "control-plane-join/etcd",
        "error creating local etcd static pod manifest file: timeout waiting for "
        "etcd cluster to be available",
    )


def _add_member(client: EtcdClient, peer: str, timeout: float = 60.0) -> list[Member]:
    """Member add, retried while etcd answers "unhealthy cluster" (as kubeadm's back-off)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            members = client.members()
            if any(peer in m.peer_urls for m in members):
                return members
            return client.add(peer)
        except EtcdError as exc:
            if time.monotonic() > deadline or "unhealthy cluster" not in str(exc):
                raise
        time.sleep(1.0)


def _control_plane_done() -> list[str]:
    return [
        "",
        "This node has joined the cluster and a new control plane instance was created:",
        "",
        "* Certificate signing request was sent to apiserver and approval was received.",
        "* The Kubelet was informed of the new secure connection details.",
        "* Control plane label and taint were applied to the new node.",
        "* The Kubernetes control plane instances scaled up.",
        "* A new etcd member was added to the local/stacked etcd cluster.",
        "",
        "To start administering your cluster from this node, you need to run the following "
        "as a regular user:",
        "",
        "\tmkdir -p $HOME/.kube",
        "\tsudo cp -i /etc/kubernetes/admin.conf $HOME/.kube/config",
        "\tsudo chown $(id -u):$(id -g) $HOME/.kube/config",
        "",
        "Run 'kubectl get nodes' to see this node join the cluster.",
        "",
    ]


def _node_done() -> list[str]:
    return [
        "",
        "This node has joined the cluster:",
        "* Certificate signing request was sent to apiserver and a response was received.",
        "* The Kubelet was informed of the new secure connection details.",
        "",
        "Run 'kubectl get nodes' on the control-plane to see this node join the cluster.",
        "",
    ]


_ = yamlio
