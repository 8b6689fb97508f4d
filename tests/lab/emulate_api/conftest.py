"""Fixtures: a real TLS etcd, the emulated kube-apiserver on loopback, and the real kubectl."""

from __future__ import annotations

import base64
import datetime
import json
import os
import socket
import ssl
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tests.waiting import wait_for

KUBECTL = "/usr/bin/kubectl"
ETCD = "/usr/bin/etcd"
VERSION = "v1.29.3"
#: How long etcd, the apiserver and its bootstrap objects may take to come up (a loaded machine).
STARTUP_TIMEOUT = 60.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Pair:
    cert: Path
    key: Path


def _name(cn: str, orgs: tuple[str, ...] = ()) -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, o) for o in orgs]
    return x509.Name([*attrs, x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _write_key(path: Path, key: Any) -> None:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    path.chmod(0o600)


def make_ca(directory: Path, stem: str, cn: str) -> Pair:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(cn))
        .issuer_name(_name(cn))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(True, False, True, False, False, True, True, False, False), critical=True
        )
        .sign(key, hashes.SHA256())
    )
    pair = Pair(directory / f"{stem}.crt", directory / f"{stem}.key")
    pair.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    _write_key(pair.key, key)
    return pair


def make_leaf(
    directory: Path,
    stem: str,
    ca: Pair,
    cn: str,
    orgs: tuple[str, ...] = (),
    server: bool = False,
    client: bool = False,
    not_after: datetime.datetime | None = None,
) -> Pair:
    ca_cert = x509.load_pem_x509_certificate(ca.cert.read_bytes())
    ca_key = serialization.load_pem_private_key(ca.key.read_bytes(), None)
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    usages = ([ExtendedKeyUsageOID.SERVER_AUTH] if server else []) + (
        [ExtendedKeyUsageOID.CLIENT_AUTH] if client else []
    )
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(cn, orgs))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(not_after or now + datetime.timedelta(days=30))
        .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
    )
    if server:
        import ipaddress

        builder = builder.add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
    cert = builder.sign(ca_key, hashes.SHA256())  # type: ignore[arg-type]
    pair = Pair(directory / f"{stem}.crt", directory / f"{stem}.key")
    pair.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    _write_key(pair.key, key)
    return pair


@dataclass
class Pki:
    dir: Path
    ca: Pair
    etcd_ca: Pair
    etcd_server: Pair
    etcd_client: Pair
    apiserver: Pair
    admin: Pair
    sa_key: Path
    sa_pub: Path


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    d = tmp_path_factory.mktemp("pki")
    ca = make_ca(d, "ca", "kubernetes")
    etcd_ca = make_ca(d, "etcd-ca", "etcd-ca")
    sa = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    _write_key(d / "sa.key", sa)
    (d / "sa.pub").write_bytes(
        sa.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return Pki(
        dir=d,
        ca=ca,
        etcd_ca=etcd_ca,
        etcd_server=make_leaf(d, "etcd-server", etcd_ca, "etcd", server=True, client=True),
        etcd_client=make_leaf(
            d, "apiserver-etcd-client", etcd_ca, "kube-apiserver-etcd-client", client=True
        ),
        apiserver=make_leaf(d, "apiserver", ca, "kube-apiserver", server=True),
        admin=make_leaf(d, "admin", ca, "kubernetes-admin", ("system:masters",), client=True),
        sa_key=d / "sa.key",
        sa_pub=d / "sa.pub",
    )


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@dataclass
class Etcd:
    url: str
    proc: subprocess.Popen[bytes]
    data_dir: Path
    args: list[str]

    def stop(self) -> None:
        _stop(self.proc)

    def start(self) -> None:
        self.proc = subprocess.Popen(
            self.args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )


def _start_etcd(pki: Pki, base: Path) -> Etcd:
    client_port, peer_port = free_port(), free_port()
    url = f"https://127.0.0.1:{client_port}"
    peer = f"http://127.0.0.1:{peer_port}"
    args = [
        ETCD,
        "--name=lab",
        f"--data-dir={base / 'etcd'}",
        f"--listen-client-urls={url}",
        f"--advertise-client-urls={url}",
        f"--listen-peer-urls={peer}",
        f"--initial-advertise-peer-urls={peer}",
        f"--initial-cluster=lab={peer}",
        f"--cert-file={pki.etcd_server.cert}",
        f"--key-file={pki.etcd_server.key}",
        "--client-cert-auth=true",
        f"--trusted-ca-file={pki.etcd_ca.cert}",
        "--log-level=error",
    ]
    etcd = Etcd(
        url,
        subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
        base / "etcd",
        args,
    )
    ctx = ssl.create_default_context(cafile=str(pki.etcd_ca.cert))
    ctx.load_cert_chain(str(pki.etcd_client.cert), str(pki.etcd_client.key))
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/health", context=ctx, timeout=2) as resp:
                if json.loads(resp.read()).get("health") == "true":
                    return etcd
        except OSError:
            pass
        if etcd.proc.poll() is not None:
            break
        time.sleep(0.1)
    etcd.stop()
    raise RuntimeError("etcd did not become healthy")


@pytest.fixture
def etcd(pki: Pki, tmp_path: Path) -> Iterator[Etcd]:
    server = _start_etcd(pki, tmp_path)
    try:
        yield server
    finally:
        server.stop()


@dataclass
class ApiServer:
    url: str
    port: int
    proc: subprocess.Popen[bytes]
    log: Path


def apiserver_args(pki: Pki, etcd_url: str, port: int, advertise: str = "127.0.0.1") -> list[str]:
    """The flags kubeadm v1.29 writes into kube-apiserver.yaml (paths pointed at the test PKI)."""
    return [
        f"--advertise-address={advertise}",
        "--allow-privileged=true",
        "--authorization-mode=Node,RBAC",
        f"--client-ca-file={pki.ca.cert}",
        "--enable-admission-plugins=NodeRestriction",
        "--enable-bootstrap-token-auth=true",
        f"--etcd-cafile={pki.etcd_ca.cert}",
        f"--etcd-certfile={pki.etcd_client.cert}",
        f"--etcd-keyfile={pki.etcd_client.key}",
        f"--etcd-servers={etcd_url}",
        f"--kubelet-client-certificate={pki.admin.cert}",
        f"--kubelet-client-key={pki.admin.key}",
        "--kubelet-preferred-address-types=InternalIP,ExternalIP,Hostname",
        f"--proxy-client-cert-file={pki.admin.cert}",
        f"--proxy-client-key-file={pki.admin.key}",
        "--requestheader-allowed-names=front-proxy-client",
        f"--requestheader-client-ca-file={pki.ca.cert}",
        "--requestheader-extra-headers-prefix=X-Remote-Extra-",
        "--requestheader-group-headers=X-Remote-Group",
        "--requestheader-username-headers=X-Remote-User",
        f"--secure-port={port}",
        "--bind-address=127.0.0.1",
        "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
        f"--service-account-key-file={pki.sa_pub}",
        f"--service-account-signing-key-file={pki.sa_key}",
        "--service-cluster-ip-range=10.96.0.0/12",
        f"--tls-cert-file={pki.apiserver.cert}",
        f"--tls-private-key-file={pki.apiserver.key}",
    ]


def module_cmd(args: list[str]) -> list[str]:
    """SEALER_LAB_PYTHON picks another interpreter (e.g. Debian's /usr/bin/python3)."""
    python = os.environ.get("SEALER_LAB_PYTHON") or sys.executable
    return [python, "-m", "sealer_lab.emulate.apiserver", *args]


def module_env(version: str = VERSION) -> dict[str, str]:
    env = dict(os.environ)
    env["SEALER_LAB_K8S_VERSION"] = version
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[3])  # the source tree
    return env


def wait_ready(url: str, proc: subprocess.Popen[bytes], ca: Path, log: Path) -> None:
    ctx = ssl.create_default_context(cafile=str(ca))
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"apiserver exited: {log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/readyz", context=ctx, timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"apiserver not ready: {log.read_text()}")


@pytest.fixture
def start_apiserver(pki: Pki, tmp_path: Path) -> Iterator[Callable[..., ApiServer]]:
    started: list[subprocess.Popen[bytes]] = []

    def start(etcd: Etcd, version: str = VERSION, advertise: str = "127.0.0.1") -> ApiServer:
        port = free_port()
        log = tmp_path / f"apiserver-{port}.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                module_cmd(apiserver_args(pki, etcd.url, port, advertise)),
                stdout=out,
                stderr=subprocess.STDOUT,
                env=module_env(version),
            )
        started.append(proc)
        url = f"https://127.0.0.1:{port}"
        wait_ready(url, proc, pki.ca.cert, log)
        return ApiServer(url, port, proc, log)

    try:
        yield start
    finally:
        for proc in started:
            _stop(proc)


@pytest.fixture
def apiserver(etcd: Etcd, start_apiserver: Callable[..., ApiServer]) -> ApiServer:
    return start_apiserver(etcd)


def write_kubeconfig(path: Path, server: str, ca: Path, user: dict[str, str]) -> Path:
    doc = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": "lab",
                "cluster": {
                    "server": server,
                    "certificate-authority-data": base64.b64encode(ca.read_bytes()).decode(),
                },
            }
        ],
        "users": [{"name": "u", "user": user}],
        "contexts": [{"name": "c", "context": {"cluster": "lab", "user": "u"}}],
        "current-context": "c",
    }
    path.write_text(json.dumps(doc))
    path.chmod(0o600)
    return path


def cert_user(pair: Pair) -> dict[str, str]:
    return {
        "client-certificate-data": base64.b64encode(pair.cert.read_bytes()).decode(),
        "client-key-data": base64.b64encode(pair.key.read_bytes()).decode(),
    }


@dataclass
class Kubectl:
    kubeconfig: Path
    cache: Path
    env: dict[str, str] = field(default_factory=dict)

    def run(
        self, *args: str, input: str | None = None, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            [KUBECTL, f"--kubeconfig={self.kubeconfig}", f"--cache-dir={self.cache}", *args],
            capture_output=True,
            text=True,
            input=input,
            timeout=120,
            env={"PATH": "/usr/bin:/bin", "HOME": str(self.cache)},
        )
        if check and proc.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed: {proc.stderr}")
        return proc

    def json(self, *args: str) -> Any:
        return json.loads(self.run(*args, "-o", "json").stdout)

    def apply_json(self, doc: dict[str, Any]) -> None:
        self.run("create", "-f", "-", input=json.dumps(doc))


@pytest.fixture
def admin(apiserver: ApiServer, pki: Pki, tmp_path: Path) -> Kubectl:
    config = write_kubeconfig(
        tmp_path / "admin.conf", apiserver.url, pki.ca.cert, cert_user(pki.admin)
    )
    kube = Kubectl(config, tmp_path / "kcache")
    wanted = {"default", "kube-system", "kube-public", "kube-node-lease"}
    wait_for(
        f"the namespaces {sorted(wanted)}",
        lambda: wanted <= {n["metadata"]["name"] for n in kube.json("get", "namespaces")["items"]},
        timeout=STARTUP_TIMEOUT,
    )
    return kube
