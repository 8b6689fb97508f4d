"""The generated certificates in real TLS: Python's ssl (OpenSSL) and a real etcd + etcdctl.

Everything listens on 127.0.0.1 only and is stopped and removed after each test.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from sealer.kube.kubeconfig import parse_kubeconfig
from tests.kube.conftest import Issued


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class TlsServer:
    """A one-connection-at-a-time TLS server on 127.0.0.1 that requires a client cert."""

    def __init__(self, cert: Path, key: Path, client_ca: Path, *, http: bool = False) -> None:
        self.http = http
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(cert, key)
        self.context.load_verify_locations(client_ca)
        self.context.verify_mode = ssl.CERT_REQUIRED
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(10)
        self.port: int = self.sock.getsockname()[1]
        self.peers: list[str] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue  # nobody connected for a while (a slow client): keep serving
            except OSError:
                return
            try:
                with self.context.wrap_socket(conn, server_side=True) as tls:
                    peer = tls.getpeercert()
                    subject = dict(x[0] for x in peer["subject"]) if peer else {}
                    self.peers.append(str(subject.get("commonName")))
                    if self.http:
                        tls.settimeout(10)
                        tls.recv(65536)
                        tls.sendall(
                            b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                            b"Content-Length: 2\r\nConnection: close\r\n\r\nok"
                        )
                    else:
                        tls.sendall(b"ok")
            except (ssl.SSLError, OSError):
                conn.close()

    def close(self) -> None:
        self.stop.set()
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
        self.sock.close()
        self.thread.join(timeout=10)


@pytest.fixture
def apiserver(issued: Issued) -> Iterator[TlsServer]:
    _, _, _, root = issued
    server = TlsServer(root / "pki/apiserver.crt", root / "pki/apiserver.key", root / "pki/ca.crt")
    try:
        yield server
    finally:
        server.close()


def client_files(issued: Issued, workdir: Path, kubeconfig: str) -> tuple[Path, Path]:
    _, _, files, _ = issued
    info = parse_kubeconfig(files[kubeconfig].content)
    assert info.client_cert_pem is not None and info.client_key_pem is not None
    cert, key = workdir / "client.crt", workdir / "client.key"
    cert.write_bytes(info.client_cert_pem)
    key.touch(mode=0o600)
    key.write_bytes(info.client_key_pem)
    return cert, key


def handshake(root: Path, port: int, name: str, cert: Path, key: Path) -> bytes:
    context = ssl.create_default_context(cafile=str(root / "pki/ca.crt"))
    context.load_cert_chain(cert, key)
    with (
        socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
        context.wrap_socket(raw, server_hostname=name) as tls,
    ):
        return tls.recv(2)


@pytest.mark.parametrize(
    "name",
    [
        "kubernetes.default.svc.cluster.local",
        "apiserver.cluster.local",
        "localhost",
        "10.96.0.1",
        "10.103.97.2",
        "192.168.10.13",
        "203.0.113.7",
    ],
)
def test_apiserver_certificate_serves_every_name(
    issued: Issued, apiserver: TlsServer, workdir: Path, name: str
) -> None:
    _, _, _, root = issued
    cert, key = client_files(issued, workdir, "admin.conf")
    assert handshake(root, apiserver.port, name, cert, key) == b"ok"
    assert apiserver.peers == ["kubernetes-admin"]


def test_apiserver_certificate_refuses_other_names(
    issued: Issued, apiserver: TlsServer, workdir: Path
) -> None:
    _, _, _, root = issued
    cert, key = client_files(issued, workdir, "admin.conf")
    with pytest.raises(ssl.SSLCertVerificationError, match="match"):
        handshake(root, apiserver.port, "evil.example.com", cert, key)


def test_clients_of_another_ca_are_refused(
    issued: Issued, apiserver: TlsServer, workdir: Path
) -> None:
    _, _, _, root = issued
    # front-proxy-client is signed by front-proxy-ca, which the API server's client CA is not
    with pytest.raises((ssl.SSLError, ConnectionError)):
        handshake(
            root,
            apiserver.port,
            "localhost",
            root / "pki/front-proxy-client.crt",
            root / "pki/front-proxy-client.key",
        )
    assert apiserver.peers == []


KUBECTL = shutil.which("kubectl")


@pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed")
@pytest.mark.parametrize("kubeconfig", ["admin.conf", "super-admin.conf", "scheduler.conf"])
def test_real_kubectl_uses_the_kubeconfig(issued: Issued, workdir: Path, kubeconfig: str) -> None:
    """kubectl trusts the embedded CA, checks the SAN and presents the client certificate."""
    assert KUBECTL is not None
    _, _, files, root = issued
    (workdir / kubeconfig).write_bytes(files[kubeconfig].content)
    server = TlsServer(
        root / "pki/apiserver.crt", root / "pki/apiserver.key", root / "pki/ca.crt", http=True
    )
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    env["HOME"] = str(workdir)
    try:
        result = subprocess.run(
            [
                KUBECTL,
                f"--kubeconfig={workdir / kubeconfig}",
                f"--server=https://127.0.0.1:{server.port}",
                "--request-timeout=10s",
                "get",
                "--raw",
                "/healthz",
            ],
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
    finally:
        server.close()
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
    expected = {
        "admin.conf": "kubernetes-admin",
        "super-admin.conf": "kubernetes-super-admin",
        "scheduler.conf": "system:kube-scheduler",
    }
    assert set(server.peers) == {expected[kubeconfig]}  # kubectl may connect more than once


ETCD = shutil.which("etcd") or "/usr/bin/etcd"
ETCDCTL = shutil.which("etcdctl") or "/usr/bin/etcdctl"


@pytest.mark.slow
@pytest.mark.skipif(not os.path.exists(ETCD), reason="etcd is not installed")
def test_real_etcd_serves_with_the_etcd_certificates(issued: Issued, workdir: Path) -> None:
    """etcd with server/peer certificates and client-cert auth; etcdctl as the API server."""
    _, _, _, root = issued
    pki = root / "pki"
    client_port, peer_port = free_port(), free_port()
    client_url = f"https://127.0.0.1:{client_port}"
    peer_url = f"https://127.0.0.1:{peer_port}"
    argv = [
        ETCD,
        "--name=master-1",
        f"--data-dir={workdir / 'etcd'}",
        f"--listen-client-urls={client_url}",
        f"--advertise-client-urls={client_url}",
        f"--listen-peer-urls={peer_url}",
        f"--initial-advertise-peer-urls={peer_url}",
        f"--initial-cluster=master-1={peer_url}",
        f"--cert-file={pki / 'etcd/server.crt'}",
        f"--key-file={pki / 'etcd/server.key'}",
        f"--trusted-ca-file={pki / 'etcd/ca.crt'}",
        "--client-cert-auth=true",
        f"--peer-cert-file={pki / 'etcd/peer.crt'}",
        f"--peer-key-file={pki / 'etcd/peer.key'}",
        f"--peer-trusted-ca-file={pki / 'etcd/ca.crt'}",
        "--peer-client-cert-auth=true",
    ]
    log = (workdir / "etcd.log").open("wb")
    process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)

    def etcdctl(
        *args: str, cert: str = "apiserver-etcd-client"
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [
                ETCDCTL,
                f"--endpoints={client_url}",
                f"--cacert={pki / 'etcd/ca.crt'}",
                f"--cert={pki / cert}.crt",
                f"--key={pki / cert}.key",
                "--command-timeout=5s",
                *args,
            ],
            capture_output=True,
            text=True,
            env={**os.environ, "ETCDCTL_API": "3"},
            check=False,
        )

    try:
        deadline = time.monotonic() + 30
        while True:
            health = etcdctl("endpoint", "health", cert="etcd/healthcheck-client")
            if health.returncode == 0 or time.monotonic() > deadline or process.poll() is not None:
                break
            time.sleep(0.2)
        assert health.returncode == 0, (health.stderr, (workdir / "etcd.log").read_text()[-2000:])
        assert etcdctl("put", "/sealer/test", "long-lived").returncode == 0
        got = etcdctl("get", "--print-value-only", "/sealer/test")
        assert got.stdout.strip() == "long-lived"
        # a client certificate from another CA is refused
        refused = etcdctl("get", "/sealer/test", cert="front-proxy-client")
        assert refused.returncode != 0
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
