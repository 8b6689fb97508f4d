"""Timings of the emulated kube-apiserver on loopback (not a test: figures for the report).

Run: python3 bench/emulate_apiserver.py
Starts a TLS etcd and one apiserver, then measures start-to-ready, GET latency over one
kept-alive connection, PUT (etcd txn) latency, and the real `kubectl get nodes` wall time.
"""

from __future__ import annotations

import http.client
import json
import ssl
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.lab.emulate_api import conftest as c


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        d = base / "pki"
        d.mkdir()
        ca = c.make_ca(d, "ca", "kubernetes")
        eca = c.make_ca(d, "etcd-ca", "etcd-ca")
        (d / "sa.key").write_text("unused")
        (d / "sa.pub").write_text("unused")
        pki = c.Pki(
            d,
            ca,
            eca,
            c.make_leaf(d, "etcd-server", eca, "etcd", server=True, client=True),
            c.make_leaf(d, "etcd-client", eca, "client", client=True),
            c.make_leaf(d, "apiserver", ca, "kube-apiserver", server=True),
            c.make_leaf(d, "admin", ca, "admin", ("system:masters",), client=True),
            d / "sa.key",
            d / "sa.pub",
        )
        etcd = c._start_etcd(pki, base)
        port = c.free_port()
        log = base / "api.log"
        t0 = time.monotonic()
        with log.open("wb") as out:
            proc = subprocess.Popen(
                c.module_cmd(c.apiserver_args(pki, etcd.url, port)),
                stdout=out,
                stderr=subprocess.STDOUT,
                env=c.module_env(),
            )
        try:
            c.wait_ready(f"https://127.0.0.1:{port}", proc, ca.cert, log)
            print(f"start to /readyz 200: {time.monotonic() - t0:.2f} s")
            ctx = ssl.create_default_context(cafile=str(ca.cert))
            ctx.load_cert_chain(str(pki.admin.cert), str(pki.admin.key))
            conn = http.client.HTTPSConnection("127.0.0.1", port, context=ctx)
            body = json.dumps({"metadata": {"name": "bench"}, "data": {"n": "0"}})
            conn.request(
                "POST",
                "/api/v1/namespaces/default/configmaps",
                body,
                {"Content-Type": "application/json"},
            )
            conn.getresponse().read()
            n = 200
            t1 = time.monotonic()
            for _ in range(n):
                conn.request("GET", "/api/v1/namespaces/default/configmaps/bench")
                conn.getresponse().read()
            get_ms = (time.monotonic() - t1) / n * 1000
            t2 = time.monotonic()
            for i in range(n):
                doc = json.dumps({"metadata": {"name": "bench"}, "data": {"n": str(i)}})
                conn.request(
                    "PUT",
                    "/api/v1/namespaces/default/configmaps/bench",
                    doc,
                    {"Content-Type": "application/json"},
                )
                conn.getresponse().read()
            put_ms = (time.monotonic() - t2) / n * 1000
            print(f"GET one object, kept-alive connection: {get_ms:.2f} ms/request")
            print(f"PUT one object (etcd txn): {put_ms:.2f} ms/request")
            config = c.write_kubeconfig(
                base / "admin.conf", f"https://127.0.0.1:{port}", ca.cert, c.cert_user(pki.admin)
            )
            kube = c.Kubectl(config, base / "cache")
            kube.run("get", "nodes")  # warms the discovery cache
            t3 = time.monotonic()
            for _ in range(5):
                kube.run("get", "nodes")
            print(f"kubectl get nodes (warm cache): {(time.monotonic() - t3) / 5:.2f} s")
        finally:
            proc.terminate()
            proc.wait(timeout=10)
            etcd.stop()


if __name__ == "__main__":
    main()
