"""The emulated network add-on's node agent (what calico-node's install-cni and flannel's
install-cni containers do): write the CNI network configuration onto the host, then stay up.

Run by the emulated kubelet for a DaemonSet pod whose image is ``calico/node`` or
``flannel/flannel`` (see podrun). It takes the configuration as the real installers do, from
the environment: ``CNI_CONF_NAME`` (file name, e.g. ``10-calico.conflist``) and
``CNI_NETWORK_CONFIG`` (the JSON), and writes it into the directory mounted at
``/host/etc/cni/net.d`` (``SEALER_LAB_MOUNTS``: the pod's hostPath mounts, mountPath -> host
path). An invalid configuration is an error, exit 1 (the kubelet restarts the pod with back-off).
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
from pathlib import Path

__all__ = ["main"]

MOUNT = "/host/etc/cni/net.d"


def main() -> int:
    name = os.environ.get("CNI_CONF_NAME", "")
    text = os.environ.get("CNI_NETWORK_CONFIG", "")
    mounts = json.loads(os.environ.get("SEALER_LAB_MOUNTS") or "{}")
    host_dir = mounts.get(MOUNT)
    if not name or "/" in name:
        sys.stderr.write(f"install-cni: CNI_CONF_NAME {name!r} is not a file name\n")
        return 1
    if not host_dir:
        sys.stderr.write(f"install-cni: no hostPath volume mounted at {MOUNT}\n")
        return 1
    try:
        doc = json.loads(text)
    except ValueError as exc:
        sys.stderr.write(f"install-cni: CNI_NETWORK_CONFIG is not valid JSON: {exc}\n")
        return 1
    target = Path(host_dir) / name
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{name}.tmp")
    tmp.write_text(json.dumps(doc, indent=2) + "\n")
    os.chmod(tmp, 0o600)
    os.replace(tmp, target)
    sys.stderr.write(f"install-cni: wrote CNI config {target}\n")
    sys.stderr.flush()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
