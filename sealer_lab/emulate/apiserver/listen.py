"""The listening socket: TLS context, handshakes off the accept loop, IPv4/IPv6."""

from __future__ import annotations

import socket
import ssl
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from sealer_lab.emulate.apiserver.flags import Options

__all__ = ["make_server", "tls_context"]

#: OpenSSL's flag (x509_vfy.h), which the ssl module has no name for.
X509_V_FLAG_NO_CHECK_TIME = 0x200000


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(
        self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], ctx: ssl.SSLContext
    ) -> None:
        self._ctx = ctx
        super().__init__(address, handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """TLS handshakes that fail (TCP probes, wrong CA) are routine: no traceback."""
        exc = sys.exc_info()[1]
        if isinstance(exc, ssl.SSLError | OSError):
            return
        super().handle_error(request, client_address)

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, addr = self.socket.accept()
        # the TLS handshake runs in the request's own thread (Handler.setup), so a client
        # that connects and never speaks (a TCP health probe) cannot stall the accept loop
        return self._ctx.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), addr


def tls_context(options: Options) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(options.tls_cert_file, options.tls_private_key_file)
    ctx.load_verify_locations(options.client_ca_file)
    ctx.verify_mode = ssl.CERT_OPTIONAL
    # The real API server only requests the client certificate in the handshake and its x509
    # authenticator verifies it: an expired certificate is a 401 Unauthorized, not a failed
    # handshake. OpenSSL's X509_V_FLAG_NO_CHECK_TIME leaves the dates to the authenticator
    # (server.Handler._identity); the chain is still verified here.
    ctx.verify_flags |= X509_V_FLAG_NO_CHECK_TIME
    ctx.set_alpn_protocols(["http/1.1"])
    return ctx


class _ServerV6(_Server):
    address_family = socket.AF_INET6


def make_server(
    bind: str, port: int, handler: type[BaseHTTPRequestHandler], ctx: ssl.SSLContext
) -> ThreadingHTTPServer:
    """Bind ``bind:port`` (IPv6 when the address has a colon); OSError when it cannot."""
    kind = _ServerV6 if ":" in bind else _Server
    return kind((bind, port), handler, ctx)
