"""Process entry: parse the real kube-apiserver flags, check files, serve until SIGTERM."""

from __future__ import annotations

import os
import re
import signal
import ssl
import sys
import threading
from types import FrameType

from sealer_lab.emulate.apiserver.controllers import Controllers
from sealer_lab.emulate.apiserver.etcd import EtcdClient
from sealer_lab.emulate.apiserver.flags import FlagError, parse_flags, validate
from sealer_lab.emulate.apiserver.listen import tls_context
from sealer_lab.emulate.apiserver.server import ApiServer, VersionInfo, serve
from sealer_lab.emulate.apiserver.store import Store

__all__ = ["DEFAULT_VERSION", "VERSION_ENV", "main"]

VERSION_ENV = "SEALER_LAB_K8S_VERSION"
SIGNING_KEY_ENV = "SEALER_LAB_CLUSTER_SIGNING_KEY"
DEFAULT_VERSION = "v1.29.3"
_VERSION_RE = re.compile(r"^v\d+\.\d+\.\d+([-+][0-9A-Za-z.+-]*)?$")
_USAGE = (
    "Usage:\n  kube-apiserver [flags]\n\n"
    "This is the sealer lab emulation of kube-apiserver; it accepts the real flags.\n"
)


def _version() -> str:
    value = os.environ.get(VERSION_ENV, "")
    if not value:
        sys.stderr.write(
            f"W sealer-lab: {VERSION_ENV} is not set; reporting {DEFAULT_VERSION} on /version\n"
        )
        return DEFAULT_VERSION
    if not _VERSION_RE.match(value):
        raise FlagError(f"{VERSION_ENV}={value!r} is not a Kubernetes version like v1.29.3")
    return value


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    try:
        opts = parse_flags(args)
        if opts.help:
            sys.stdout.write(_USAGE)
            return 0
        version = _version()
        if opts.version:
            sys.stdout.write(f"Kubernetes {version}\n")
            return 0
    except FlagError as exc:
        sys.stderr.write(f"Error: {exc}\n{_USAGE}")
        return 1
    errors = validate(opts)
    if errors:
        for error in errors:
            sys.stderr.write(f"Error: {error}\n")
        return 1
    try:
        ctx = tls_context(opts)
    except (ssl.SSLError, OSError, ValueError) as exc:
        sys.stderr.write(
            f"Error: failed to load the serving certificate {opts.tls_cert_file}, its key "
            f"or the client CA {opts.client_ca_file}: {exc}\n"
        )
        return 1
    try:
        etcd = EtcdClient(
            opts.etcd_servers, opts.etcd_cafile, opts.etcd_certfile, opts.etcd_keyfile
        )
        # health checks get their own connections and the real --etcd-healthcheck-timeout
        health = EtcdClient(
            opts.etcd_servers, opts.etcd_cafile, opts.etcd_certfile, opts.etcd_keyfile, 2.0
        )
    except (ssl.SSLError, OSError, ValueError) as exc:
        sys.stderr.write(f"Error: failed to load the etcd client TLS files: {exc}\n")
        return 1
    app = ApiServer(
        options=opts,
        store=Store(etcd, opts.etcd_prefix),
        version=VersionInfo(version),
        health_etcd=health,
    )
    ca_dir = os.path.dirname(opts.client_ca_file)
    controllers = Controllers(
        store=app.store,
        service_cluster_ip_range=opts.service_cluster_ip_range,
        advertise_address=opts.advertise_address,
        secure_port=opts.secure_port,
        signing_cert_file=opts.client_ca_file,
        signing_key_file=os.environ.get(SIGNING_KEY_ENV) or os.path.join(ca_dir, "ca.key"),
        stopping=app.stopping,
    )

    def stop(_signum: int, _frame: FrameType | None) -> None:
        app.stopping.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    threading.Thread(target=controllers.run, name="controllers", daemon=True).start()

    def ready() -> None:
        where = f"{opts.bind_address}:{opts.secure_port}"
        sys.stderr.write(f"I sealer-lab kube-apiserver {version} serving securely on {where}\n")
        sys.stderr.flush()

    try:
        serve(app, ctx, ready)
    except OSError as exc:
        sys.stderr.write(
            f"Error: failed to listen on {opts.bind_address}:{opts.secure_port}: {exc}\n"
        )
        return 1
    return 0
