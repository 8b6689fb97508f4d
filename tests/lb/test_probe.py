"""The probe against real HTTPS servers on 127.0.0.1: status, CA, SAN, refused, timeout."""

from __future__ import annotations

import http.server
import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sealer.lb.care import Config, ProbeResult, probe, tls_context
from tests.lb.netlab import Pki, make_pki


@contextmanager
def https_server(pki: Pki, status: int) -> Iterator[int]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(status if self.path == "/readyz" else 404)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: object) -> None:
            return

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(pki.cert), str(pki.key))
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def check(pki_for_client: Pki, port: int, timeout: float = 2.0) -> ProbeResult:
    context = tls_context(
        Config(vip="10.103.97.2", masters=("127.0.0.1",), ca_file=str(pki_for_client.ca))
    )
    return probe("127.0.0.1", port, "/readyz", context, timeout)


def test_200_is_healthy(pki: Pki) -> None:
    with https_server(pki, 200) as port:
        assert check(pki, port) == ProbeResult(True, "HTTP 200")


def test_any_other_answer_is_a_failure(pki: Pki) -> None:
    for status in (500, 401, 302, 204):
        with https_server(pki, status) as port:
            assert check(pki, port) == ProbeResult(False, f"HTTP {status}")


def test_certificate_of_another_ca_fails(pki: Pki, tmp_path: Path) -> None:
    other = make_pki(tmp_path / "other", ["127.0.0.1"])
    with https_server(pki, 200) as port:
        result = check(other, port)
    assert not result.ok
    assert result.detail.startswith("TLS: unable to get local issuer certificate"), result


def test_certificate_without_the_masters_ip_fails(tmp_path: Path) -> None:
    wrong = make_pki(tmp_path / "wrong", ["127.0.0.2"])
    with https_server(wrong, 200) as port:
        result = check(wrong, port)
    assert not result.ok
    assert "IP address mismatch" in result.detail, result


def test_refused(pki: Pki) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, not listening: refused
        result = check(pki, port)
    assert result == ProbeResult(False, "connect: Connection refused")


def test_silent_server_times_out(pki: Pki) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)  # accepts the TCP connection (backlog), never speaks TLS
        result = check(pki, sock.getsockname()[1], timeout=0.3)
    assert result == ProbeResult(False, "timed out after 0.3s")


def test_not_http(pki: Pki) -> None:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(pki.cert), str(pki.key))
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)

        def answer() -> None:
            conn, _ = sock.accept()
            with context.wrap_socket(conn, server_side=True) as tls:
                tls.recv(1024)
                tls.sendall(b"SSH-2.0-nope\r\n")

        thread = threading.Thread(target=answer)
        thread.start()
        result = check(pki, sock.getsockname()[1])
        thread.join()
    assert result == ProbeResult(False, "not an HTTP answer")
