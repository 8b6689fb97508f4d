"""A stand-in kube-apiserver for the load-balancer tests: HTTPS, /readyz, switchable status.

Run inside a network namespace: ``readyz_server.py ADDRESS PORT CERT KEY STATUS_FILE READY_FILE``.
``/readyz`` answers the integer in STATUS_FILE (200 when the file is missing); every answer's
body is ADDRESS, so a client going through the VIP can tell which "master" answered. READY_FILE
is created once the socket listens.
"""

from __future__ import annotations

import http.server
import pathlib
import ssl
import sys


def main() -> None:
    address, port, cert, key, status_file, ready_file = sys.argv[1:7]

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            try:
                status = int(pathlib.Path(status_file).read_text().strip())
            except (OSError, ValueError):
                status = 200
            body = address.encode("ascii")
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body)
            self.close_connection = True

        def log_message(self, format: str, *args: object) -> None:
            return

    server = http.server.ThreadingHTTPServer((address, int(port)), Handler)
    server.daemon_threads = True
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    pathlib.Path(ready_file).touch()
    server.serve_forever()


if __name__ == "__main__":
    main()
