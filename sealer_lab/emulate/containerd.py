"""The emulated ``containerd``: the container runtime's socket, run by systemd.

``containerd [--config|-c FILE] [--address|-a PATH]`` reads its configuration (default
``/etc/containerd/config.toml``; a missing file means the defaults), listens on the unix socket
(``[grpc] address``, default ``/run/containerd/containerd.sock``), tells systemd it is ready
(``Type=notify``: ``READY=1`` to ``NOTIFY_SOCKET``) and answers the CRI's ``Version`` and
``Status`` (:mod:`cri`) until SIGTERM. ``Status`` reports ``RuntimeReady`` true and
``NetworkReady`` as containerd's CRI plugin decides it from ``/etc/cni/net.d`` (:mod:`cninet`).

A configuration it cannot use stops it with exit 1 and containerd's message, before the socket
exists (a unit that crash-loops, a client that meets ``no such file or directory``):
a file that is not TOML (``failed to load TOML: FILE: ...``) or a ``version`` other than 1, 2
or 3 (``unsupported config version `N```). A configuration whose ``disabled_plugins`` names
the CRI plugin (``cri``, as the config.toml of Docker's containerd.io package) starts a
containerd that answers every CRI call with ``unknown service runtime.v1.RuntimeService``.
Containers are not run here: the kubelet still runs
pods as host processes (docs/lab-emulation.md).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import signal
import socket
import sys
import threading
from pathlib import Path
from typing import Any

from sealer_lab.emulate import cninet

__all__ = ["CONFIG", "VERSION", "cri_enabled", "load_config", "main", "status_response"]

CONFIG = "/etc/containerd/config.toml"
SOCKET = "/run/containerd/containerd.sock"
VERSION = "v1.7.13"
REVISION = "7c3aca7a610df76212171d200ca3811ff6096eb8"
_SUPPORTED_CONFIG_VERSIONS = (1, 2, 3)


class ConfigError(Exception):
    pass


def _log(level: str, message: str) -> None:
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    sys.stderr.write(f'time="{now}" level={level} msg={json.dumps(message)}\n')
    sys.stderr.flush()


def load_config(path: str) -> dict[str, Any]:
    """The configuration at ``path`` ({} when there is no file); :class:`ConfigError` with
    containerd's words when it cannot be used."""
    try:
        text = Path(path).read_text()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ConfigError(f"failed to load TOML: {path}: {exc.strerror or exc}") from None
    import tomllib

    try:
        config = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"failed to load TOML: {path}: {exc}") from None
    version = config.get("version", 1)
    if version not in _SUPPORTED_CONFIG_VERSIONS:
        raise ConfigError(
            f"failed to load TOML from {path}: unsupported config version `{version}`"
        )
    return config


def status_response(conf_dir: Path = cninet.CONF_DIR) -> dict[str, Any]:
    """The CRI ``StatusResponse`` as ``crictl info`` prints it."""
    network = cninet.network_config(conf_dir)
    if network is None:
        net = {
            "type": "NetworkReady",
            "status": False,
            "reason": "NetworkPluginNotReady",
            "message": "Network plugin returns error: cni plugin not initialized",
        }
        load_status = (
            f"cni config load failed: no network config found in {conf_dir}: cni plugin not "
            "initialized: failed to load cni config"
        )
    else:
        net = {"type": "NetworkReady", "status": True, "reason": "", "message": ""}
        load_status = "OK"
    return {
        "status": {
            "conditions": [
                {"type": "RuntimeReady", "status": True, "reason": "", "message": ""},
                net,
            ]
        },
        "cniconfig": {"PluginDirs": ["/opt/cni/bin"], "PluginConfDir": str(conf_dir)},
        "config": {"containerd": {"snapshotter": "overlayfs"}, "enableCDI": False},
        "golang": "go1.21.6",
        "lastCNILoadStatus": load_status,
        "lastCNILoadStatus.default": load_status,
    }


NO_CRI = "rpc error: code = Unimplemented desc = unknown service runtime.v1.RuntimeService"
#: Names by which ``disabled_plugins`` turns the CRI plugin off.
CRI_PLUGIN_NAMES = ("cri", "io.containerd.grpc.v1.cri")


def cri_enabled(config: dict[str, Any]) -> bool:
    disabled = config.get("disabled_plugins") or []
    return not any(name in CRI_PLUGIN_NAMES for name in disabled)


def _answer(request: bytes, cri: bool = True) -> dict[str, Any]:
    try:
        method = json.loads(request).get("method")
    except (ValueError, AttributeError):
        return {"error": "rpc error: code = Internal desc = grpc: error unmarshalling request"}
    if not cri:  # containerd runs, but no CRI service is registered on its socket
        return {"error": NO_CRI}
    if method == "Version":
        return {
            "version": "0.1.0",
            "runtimeName": "containerd",
            "runtimeVersion": VERSION,
            "runtimeApiVersion": "v1",
        }
    if method == "Status":
        return status_response()
    return {"error": f"rpc error: code = Unimplemented desc = unknown method {method}"}


def _serve_one(conn: socket.socket, cri: bool) -> None:
    with conn:
        conn.settimeout(5.0)
        data = b""
        with contextlib.suppress(OSError):
            while not data.endswith(b"\n"):
                chunk = conn.recv(65536)
                if not chunk:
                    break
                data += chunk
            conn.sendall(json.dumps(_answer(data, cri)).encode() + b"\n")


def _notify_ready() -> None:
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return
    if address.startswith("@"):
        address = "\0" + address[1:]
    with (
        contextlib.suppress(OSError),
        socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock,
    ):
        sock.sendto(b"READY=1", address)


def _flag(argv: list[str], names: tuple[str, ...]) -> str | None:
    for i, a in enumerate(argv):
        for name in names:
            if a.startswith(name + "="):
                return a.split("=", 1)[1]
            if a == name and i + 1 < len(argv):
                return argv[i + 1]
    return None


def main(argv: list[str]) -> int:
    if "--version" in argv or "-v" in argv:
        print(f"containerd github.com/containerd/containerd {VERSION} {REVISION}")
        return 0
    config_path = _flag(argv, ("--config", "-c")) or CONFIG
    try:
        config = load_config(config_path)
    except ConfigError as exc:
        sys.stderr.write(f"containerd: {exc}\n")
        return 1
    grpc = config.get("grpc")
    grpc = grpc if isinstance(grpc, dict) else {}
    address = _flag(argv, ("--address", "-a")) or str(grpc.get("address") or SOCKET)
    Path(address).parent.mkdir(parents=True, exist_ok=True)
    Path(address).unlink(missing_ok=True)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        server.bind(address)
    except OSError as exc:
        _log("fatal", f"failed to get listener for main endpoint: listen unix {address}: {exc}")
        return 1
    os.chmod(address, 0o660)
    cri = cri_enabled(config)
    if not cri:
        _log("info", 'skip loading plugin "io.containerd.grpc.v1.cri"... (disabled)')
    server.listen(64)
    stop = threading.Event()

    def on_term(_signo: int, _frame: object) -> None:
        stop.set()
        with contextlib.suppress(OSError):
            server.shutdown(socket.SHUT_RDWR)

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    _log("info", f"starting containerd revision={REVISION} version={VERSION} (emulated)")
    _log("info", f"serving... address={address}")
    _notify_ready()
    _log("info", "containerd successfully booted")
    while not stop.is_set():
        try:
            conn, _ = server.accept()
        except OSError:
            break
        threading.Thread(target=_serve_one, args=(conn, cri), daemon=True).start()
    server.close()
    Path(address).unlink(missing_ok=True)
    _log("info", "containerd successfully shutdown")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
