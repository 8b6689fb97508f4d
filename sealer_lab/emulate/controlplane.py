"""Stand-ins for kube-controller-manager and kube-scheduler.

Each listens on its real secure port (10257 / 10259; plain HTTP ``/healthz`` here) so kubeadm's
port preflight checks and health probes see them, and otherwise idles. The controllers that
kubeadm depends on (bootstrap signer, token cleaner, CSR approver/signer) are run by the
emulated kube-apiserver (sealer_lab.emulate.apiserver), see docs/lab-emulation.md.
"""

from __future__ import annotations

import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["main"]

PORTS = {"controller-manager": 10257, "scheduler": 10259}


class _Healthz(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"ok"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def _flag(argv: list[str], name: str, default: str) -> str:
    for i, a in enumerate(argv):
        if a.startswith(name + "="):
            return a.split("=", 1)[1]
        if a == name and i + 1 < len(argv):
            return argv[i + 1]
    return default


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in PORTS:
        sys.stderr.write(f"usage: controlplane {{{'|'.join(PORTS)}}} [flags]\n")
        return 2
    role, flags = argv[0], argv[1:]
    port = int(_flag(flags, "--secure-port", str(PORTS[role])))
    bind = _flag(flags, "--bind-address", "127.0.0.1")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        server = ThreadingHTTPServer((bind, port), _Healthz)
    except OSError as exc:
        sys.stderr.write(f"failed to listen on {bind}:{port}: {exc}\n")
        return 1
    threading.Thread(target=server.serve_forever, daemon=True).start()
    sys.stderr.write(f"kube-{role} (emulated) serving /healthz on {bind}:{port}\n")
    stop.wait()
    server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
