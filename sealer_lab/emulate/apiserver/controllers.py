"""Controllers in miniature that the real control plane runs next to the apiserver.

- bootstrap objects: the namespaces default, kube-system, kube-public, kube-node-lease, the
  ``default/kubernetes`` Service and the ``cluster-admin`` ClusterRole (+ binding to
  system:masters), as the real apiserver's post-start hooks create them;
- bootstrap signer: keeps ``jws-kubeconfig-<token-id>`` in ConfigMap kube-public/cluster-info
  for every bootstrap token with ``usage-bootstrap-signing: true`` (kube-controller-manager's
  bootstrapsigner), so ``kubeadm join`` token discovery can verify cluster-info;
- token cleaner: deletes expired bootstrap-token Secrets (kube-controller-manager's tokencleaner);
- DaemonSets: one Pod per eligible Node (:mod:`daemonsets`);
- CSR approver and signer: approves kubelet client CSRs (signer
  ``kubernetes.io/kube-apiserver-client-kubelet``) from bootstrappers and nodes, as kubeadm's
  auto-approve bindings make csrapproving do, and signs them with the cluster CA key when the
  emulator can read it.

Every apiserver of a cluster runs these; they only write through compare-and-swap, so several
running at once converge to the same state.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import ipaddress
import json
import sys
import threading
import time
import traceback
from typing import TYPE_CHECKING, Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import ExtendedKeyUsageOID

from sealer_lab.emulate.apiserver.auth import token_expired
from sealer_lab.emulate.apiserver.daemonsets import sync_daemonsets
from sealer_lab.emulate.apiserver.etcd import EtcdUnavailable
from sealer_lab.emulate.apiserver.resources import Resource, find_resource
from sealer_lab.emulate.apiserver.status import ApiError
from sealer_lab.emulate.apiserver.store import SYSTEM_NAMESPACES, Store, now_rfc3339
from sealer_lab.emulate.pki import key_usage

if TYPE_CHECKING:  # cryptography < 40 (Debian 12's python3) lacks this module at run time
    from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes

__all__ = ["Controllers", "detached_jws"]

Obj = dict[str, Any]
KUBELET_CLIENT_SIGNER = "kubernetes.io/kube-apiserver-client-kubelet"
CLIENT_SIGNER = "kubernetes.io/kube-apiserver-client"
KUBELET_SERVING_SIGNER = "kubernetes.io/kubelet-serving"
SIGNERS = (KUBELET_CLIENT_SIGNER, CLIENT_SIGNER, KUBELET_SERVING_SIGNER)
MASTER_LEASE_TTL = 15  # seconds, as the real lease endpoint reconciler


def _res(group: str, plural: str) -> Resource:
    res = find_resource(group, "v1", plural)
    assert res is not None
    return res


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def detached_jws(content: str, token_id: str, token_secret: str) -> str:
    """HS256 JWS of ``content`` keyed by the token secret, payload detached (``header..sig``)."""
    header = _b64url(json.dumps({"alg": "HS256", "kid": token_id}, separators=(",", ":")).encode())
    payload = _b64url(content.encode())
    signature = hmac.new(
        token_secret.encode(), f"{header}.{payload}".encode(), hashlib.sha256
    ).digest()
    return f"{header}..{_b64url(signature)}"


def _decoded(data: dict[str, Any], key: str) -> str:
    try:
        return base64.b64decode(str(data.get(key, ""))).decode()
    except ValueError:
        return ""


class Controllers:
    """Runs every loop once per ``interval`` seconds until ``stopping`` is set."""

    def __init__(
        self,
        store: Store,
        service_cluster_ip_range: str,
        advertise_address: str,
        secure_port: int,
        signing_cert_file: str,
        signing_key_file: str,
        stopping: threading.Event,
        interval: float = 2.0,
        compaction_interval: float = 300.0,
    ) -> None:
        self.store = store
        self.service_cidr = service_cluster_ip_range
        self.advertise_address = advertise_address
        self.secure_port = secure_port
        self.signing_cert_file = signing_cert_file
        self.signing_key_file = signing_key_file
        self.stopping = stopping
        self.interval = interval
        self.bootstrapped = False
        self.compaction_interval = compaction_interval
        self._compact_due = time.monotonic() + compaction_interval
        self._compact_rev = 0

    def run(self) -> None:
        while not self.stopping.is_set():
            self.run_once()
            self.stopping.wait(self.interval)

    def run_once(self) -> None:
        loops = (
            self.bootstrap,
            self.master_lease,
            self.clean_tokens,
            self.sign_cluster_info,
            self.csrs,
            self.daemonsets,
            self.compact,
        )
        for loop in loops:
            try:
                loop()
            except (EtcdUnavailable, ApiError, OSError, ValueError):
                continue  # retried on the next round, like a controller's work queue
            except Exception:  # a bug in one loop must not stop the others
                traceback.print_exc(file=sys.stderr)

    # -- bootstrap objects ---------------------------------------------------------------

    def bootstrap(self) -> None:
        if self.bootstrapped:
            return
        namespaces = _res("", "namespaces")
        for name in SYSTEM_NAMESPACES:
            self.store.ensure(namespaces, "", {"metadata": {"name": name}})
        if self.service_cidr:
            network = ipaddress.ip_network(self.service_cidr.split(",")[0], strict=False)
            cluster_ip = str(network.network_address + 1)
            self.store.ensure(
                _res("", "services"),
                "default",
                {
                    "metadata": {
                        "name": "kubernetes",
                        "labels": {"component": "apiserver", "provider": "kubernetes"},
                    },
                    "spec": {
                        "type": "ClusterIP",
                        "clusterIP": cluster_ip,
                        "clusterIPs": [cluster_ip],
                        "ports": [
                            {
                                "name": "https",
                                "port": 443,
                                "protocol": "TCP",
                                "targetPort": self.secure_port,
                            }
                        ],
                        "sessionAffinity": "None",
                    },
                },
            )
        rbac = "rbac.authorization.k8s.io"
        self.store.ensure(
            _res(rbac, "clusterroles"),
            "",
            {
                "metadata": {
                    "name": "cluster-admin",
                    "labels": {"kubernetes.io/bootstrapping": "rbac-defaults"},
                },
                "rules": [
                    {"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]},
                    {"nonResourceURLs": ["*"], "verbs": ["*"]},
                ],
            },
        )
        self.store.ensure(
            _res(rbac, "clusterrolebindings"),
            "",
            {
                "metadata": {
                    "name": "cluster-admin",
                    "labels": {"kubernetes.io/bootstrapping": "rbac-defaults"},
                },
                "roleRef": {"apiGroup": rbac, "kind": "ClusterRole", "name": "cluster-admin"},
                "subjects": [{"apiGroup": rbac, "kind": "Group", "name": "system:masters"}],
            },
        )
        self.bootstrapped = True

    # -- etcd compaction (--etcd-compaction-interval, default 5m) ---------------------------

    def compact(self, now: float | None = None) -> None:
        """Every interval, compact etcd to the revision seen one interval earlier.

        Like the real one, history of the last interval is kept, so several apiservers doing
        this at once only repeat a compaction (etcd refuses it; the error is ignored).
        """
        now = time.monotonic() if now is None else now
        if now < self._compact_due:
            return
        self._compact_due = now + self.compaction_interval
        previous, self._compact_rev = self._compact_rev, self.store.etcd.revision()
        if previous:
            self.store.etcd.compact(previous)

    # -- endpoint reconciler (--endpoint-reconciler-type=lease) ---------------------------

    def master_lease(self) -> None:
        """Keep this apiserver's address in /registry/masterleases and default/kubernetes."""
        if not self.advertise_address:
            return
        root = self.store.root
        endpoint = {
            "kind": "Endpoints",
            "apiVersion": "v1",
            "metadata": {"creationTimestamp": None},
            "subsets": [{"addresses": [{"ip": self.advertise_address}]}],
        }
        self.store.etcd.put_with_ttl(
            f"{root}/masterleases/{self.advertise_address}",
            json.dumps(endpoint, separators=(",", ":")).encode(),
            MASTER_LEASE_TTL,
        )
        kvs, _ = self.store.etcd.list_prefix(f"{root}/masterleases/")
        ips = sorted(kv.key.rsplit("/", 1)[1] for kv in kvs)
        endpoints = _res("", "endpoints")
        subsets = [
            {
                "addresses": [{"ip": ip} for ip in ips],
                "ports": [{"name": "https", "port": self.secure_port, "protocol": "TCP"}],
            }
        ]
        try:
            current = self.store.get(endpoints, "default", "kubernetes")
        except ApiError as err:
            if err.code != 404:
                raise
            self.store.ensure(
                endpoints,
                "default",
                {
                    "metadata": {
                        "name": "kubernetes",
                        "labels": {"endpointslice.kubernetes.io/skip-mirror": "true"},
                    },
                    "subsets": subsets,
                },
            )
            return
        if current.get("subsets") != subsets:
            current["subsets"] = subsets
            self.store.update(endpoints, "default", "kubernetes", current)

    # -- bootstrap tokens ----------------------------------------------------------------

    def _tokens(self) -> list[tuple[Obj, dict[str, Any]]]:
        secrets, _ = self.store.list(_res("", "secrets"), "kube-system")
        return [
            (s, s.get("data") or {})
            for s in secrets
            if s.get("type") == "bootstrap.kubernetes.io/token"
        ]

    def clean_tokens(self) -> None:
        """Delete expired tokens, and the kube-system Secrets they own (garbage collector)."""
        secrets = _res("", "secrets")
        expired: set[str] = set()
        for secret, data in self._tokens():
            if token_expired(_decoded(data, "expiration")):
                meta = secret["metadata"]
                try:
                    self.store.delete(secrets, "kube-system", meta["name"])
                except ApiError:
                    continue
                expired.add(str(meta.get("uid")))
        if not expired:
            return
        others, _ = self.store.list(secrets, "kube-system")
        for other in others:
            owners = other["metadata"].get("ownerReferences") or []
            if any(o.get("uid") in expired for o in owners):
                try:
                    self.store.delete(secrets, "kube-system", other["metadata"]["name"])
                except ApiError:
                    continue

    def sign_cluster_info(self) -> None:
        configmaps = _res("", "configmaps")
        try:
            info = self.store.get(configmaps, "kube-public", "cluster-info")
        except ApiError:
            return
        data = dict(info.get("data") or {})
        content = data.get("kubeconfig")
        if not isinstance(content, str):
            return
        wanted: dict[str, str] = {}
        for secret, tdata in self._tokens():
            token_id = _decoded(tdata, "token-id")
            token_secret = _decoded(tdata, "token-secret")
            if (
                not token_id
                or not secret["metadata"]["name"].endswith(token_id)
                or _decoded(tdata, "usage-bootstrap-signing") != "true"
                or token_expired(_decoded(tdata, "expiration"))
            ):
                continue
            wanted[f"jws-kubeconfig-{token_id}"] = detached_jws(content, token_id, token_secret)
        new = {k: v for k, v in data.items() if not k.startswith("jws-kubeconfig-")}
        new.update(wanted)
        if new != data:
            info["data"] = new
            self.store.update(configmaps, "kube-public", "cluster-info", info)

    def daemonsets(self) -> None:
        sync_daemonsets(self.store)

    # -- certificate signing requests ----------------------------------------------------

    def _ca(self) -> tuple[x509.Certificate, CertificateIssuerPrivateKeyTypes] | None:
        try:
            with open(self.signing_cert_file, "rb") as f:
                cert = x509.load_pem_x509_certificate(f.read())
            with open(self.signing_key_file, "rb") as f:
                key = serialization.load_pem_private_key(f.read(), password=None)
        except (OSError, ValueError):
            return None
        return cert, key  # type: ignore[return-value]

    def csrs(self) -> None:
        csr_res = _res("certificates.k8s.io", "certificatesigningrequests")
        items, _ = self.store.list(csr_res, None)
        ca: tuple[x509.Certificate, CertificateIssuerPrivateKeyTypes] | None = None
        for item in items:
            spec = item.get("spec") or {}
            status = item.get("status") or {}
            if spec.get("signerName") not in SIGNERS or status.get("certificate"):
                continue
            conditions = status.get("conditions") or []
            types = {c.get("type") for c in conditions}
            if "Denied" in types or "Failed" in types:
                continue
            name = item["metadata"]["name"]
            if "Approved" not in types:
                if spec.get("signerName") != KUBELET_CLIENT_SIGNER or not _auto_approvable(spec):
                    continue
                item.setdefault("status", {})["conditions"] = [
                    *conditions,
                    {
                        "type": "Approved",
                        "status": "True",
                        "reason": "AutoApproved",
                        "message": (
                            "Auto approving kubelet client certificate after SubjectAccessReview."
                        ),
                        "lastUpdateTime": now_rfc3339(),
                        "lastTransitionTime": now_rfc3339(),
                    },
                ]
                item = self.store.update(csr_res, "", name, item, "approval")
            if ca is None:
                ca = self._ca()
                if ca is None:
                    return  # no CA key readable here: stays approved, unsigned
            pem = _sign(spec, ca)
            if pem is None:
                continue
            item.setdefault("status", {})["certificate"] = base64.b64encode(pem).decode()
            self.store.update(csr_res, "", name, item, "status")


def _not_after(cert: x509.Certificate) -> datetime.datetime:
    """The CA's expiry, aware (``not_valid_after_utc`` only exists in cryptography >= 42)."""
    aware = getattr(cert, "not_valid_after_utc", None)
    if isinstance(aware, datetime.datetime):
        return aware
    return cert.not_valid_after.replace(tzinfo=datetime.UTC)


def _auto_approvable(spec: dict[str, Any]) -> bool:
    user = str(spec.get("username", ""))
    groups = spec.get("groups") or []
    return user.startswith("system:node:") or "system:bootstrappers" in groups


def _sign(
    spec: dict[str, Any],
    ca: tuple[x509.Certificate, CertificateIssuerPrivateKeyTypes],
) -> bytes | None:
    """Issue the certificate an approved CSR asks for, with the signer's rules."""
    try:
        request = x509.load_pem_x509_csr(base64.b64decode(str(spec.get("request", ""))))
    except ValueError:
        return None
    signer = spec.get("signerName")
    subject = request.subject
    cn = subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    orgs = [a.value for a in subject.get_attributes_for_oid(x509.NameOID.ORGANIZATION_NAME)]
    is_node = bool(cn) and str(cn[0].value).startswith("system:node:") and orgs == ["system:nodes"]
    if signer in {KUBELET_CLIENT_SIGNER, KUBELET_SERVING_SIGNER} and not is_node:
        return None  # the real signers refuse these subjects (the CSR stays unsigned)
    serving = signer == KUBELET_SERVING_SIGNER
    ca_cert, ca_key = ca
    now = datetime.datetime.now(datetime.UTC)
    seconds = int(spec.get("expirationSeconds") or 365 * 24 * 3600)
    usage = ExtendedKeyUsageOID.SERVER_AUTH if serving else ExtendedKeyUsageOID.CLIENT_AUTH
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca_cert.subject)
        .public_key(request.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(min(now + datetime.timedelta(seconds=seconds), _not_after(ca_cert)))
        .add_extension(key_usage(ca=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
    )
    if serving:
        try:
            sans = request.extensions.get_extension_for_class(x509.SubjectAlternativeName)
        except x509.ExtensionNotFound:
            return None
        names = [n for n in sans.value if isinstance(n, x509.DNSName | x509.IPAddress)]
        if not names:
            return None
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    cert = builder.sign(ca_key, hashes.SHA256())
    return cert.public_bytes(serialization.Encoding.PEM)
