"""The container runtime's network readiness, as containerd's CRI plugin decides it.

containerd reports ``NetworkReady=false`` (reason ``NetworkPluginNotReady``, message ``Network
plugin returns error: cni plugin not initialized``) until a valid CNI network configuration is
in its ``conf_dir`` (``/etc/cni/net.d``): a ``*.conf``, ``*.conflist`` or ``*.json`` file whose
JSON names a network and holds either a plugin ``type`` (``.conf``) or a non-empty
``plugins`` list (``.conflist``). The kubelet passes that on as its Node's Ready condition.
"""

from __future__ import annotations

import json
from pathlib import Path

__all__ = ["CONF_DIR", "NOT_READY_MESSAGE", "network_config", "network_ready"]

CONF_DIR = Path("/etc/cni/net.d")
NOT_READY_MESSAGE = (
    "container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady "
    "message:Network plugin returns error: cni plugin not initialized"
)
_SUFFIXES = (".conf", ".conflist", ".json")


def network_config(conf_dir: Path = CONF_DIR) -> Path | None:
    """The first valid network configuration file in ``conf_dir`` (by name, as libcni)."""
    try:
        files = sorted(p for p in conf_dir.iterdir() if p.suffix in _SUFFIXES and p.is_file())
    except OSError:
        return None
    for path in files:
        try:
            doc = json.loads(path.read_text())
        except (OSError, ValueError, UnicodeDecodeError):
            continue
        if not isinstance(doc, dict) or not doc.get("name"):
            continue
        plugins = doc.get("plugins")
        if path.suffix == ".conflist" and isinstance(plugins, list) and plugins:
            return path
        if path.suffix != ".conflist" and (
            doc.get("type") or (isinstance(plugins, list) and plugins)
        ):
            return path
    return None


def network_ready(conf_dir: Path = CONF_DIR) -> bool:
    return network_config(conf_dir) is not None
