"""The network add-ons the lab's offline package carries (``kube/manifests/``).

Their shape is the real add-ons' (calico-node, kube-flannel-ds: a host-network DaemonSet that
tolerates every NoSchedule/NoExecute taint and mounts the host's /etc/cni/net.d), reduced to
what the emulated kubelet runs: the agent container's image maps to the emulated installer
(``sealer_lab.emulate.cniplugin``), which writes ``CNI_NETWORK_CONFIG`` as ``CNI_CONF_NAME``
into the mounted directory. ``@POD_CIDR@`` is the placeholder sealer replaces with the
Clusterfile's ``spec.network.podCIDR`` (docs/clusterfile.md).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

__all__ = ["ADDONS", "Addon", "manifest_images"]

CALICO_VERSION = "v3.27.3"
FLANNEL_VERSION = "v0.24.2"


@dataclass(frozen=True)
class Addon:
    name: str
    version: str
    manifest: str  # path inside kube/
    text: str


def _conflist(name: str, plugin: str) -> str:
    return json.dumps(
        {
            "name": name,
            "cniVersion": "0.3.1",
            "plugins": [
                {
                    "type": plugin,
                    "ipam": {"type": "host-local", "ranges": [[{"subnet": "@POD_CIDR@"}]]},
                },
                {"type": "portmap", "capabilities": {"portMappings": True}},
            ],
        },
        separators=(",", ":"),
    )


def _daemonset(
    name: str, namespace: str, app: str, image: str, conf_name: str, conf: str, cidr_env: str
) -> str:
    return f"""apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: {name}
  namespace: {namespace}
  labels:
    k8s-app: {app}
spec:
  selector:
    matchLabels:
      k8s-app: {app}
  template:
    metadata:
      labels:
        k8s-app: {app}
    spec:
      hostNetwork: true
      priorityClassName: system-node-critical
      serviceAccountName: {name}
      tolerations:
      - effect: NoSchedule
        operator: Exists
      - key: CriticalAddonsOnly
        operator: Exists
      - effect: NoExecute
        operator: Exists
      containers:
      - name: {app}
        image: {image}
        env:
        - name: {cidr_env}
          value: "@POD_CIDR@"
        - name: CNI_CONF_NAME
          value: {conf_name}
        - name: CNI_NETWORK_CONFIG
          value: '{conf}'
        volumeMounts:
        - name: cni-net-dir
          mountPath: /host/etc/cni/net.d
      volumes:
      - name: cni-net-dir
        hostPath:
          path: /etc/cni/net.d
"""


def _service_account(name: str, namespace: str) -> str:
    return f"""apiVersion: v1
kind: ServiceAccount
metadata:
  name: {name}
  namespace: {namespace}
"""


CALICO = Addon(
    "calico",
    CALICO_VERSION,
    "manifests/calico.yaml",
    f"# Calico {CALICO_VERSION} (sealer lab: emulated agent)\n"
    + _service_account("calico-node", "kube-system")
    + "---\n"
    + _daemonset(
        "calico-node",
        "kube-system",
        "calico-node",
        f"docker.io/calico/node:{CALICO_VERSION}",
        "10-calico.conflist",
        _conflist("k8s-pod-network", "calico"),
        "CALICO_IPV4POOL_CIDR",
    ),
)

FLANNEL = Addon(
    "flannel",
    FLANNEL_VERSION,
    "manifests/flannel.yaml",
    f"# Flannel {FLANNEL_VERSION} (sealer lab: emulated agent)\n"
    "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: kube-flannel\n---\n"
    + _service_account("flannel", "kube-flannel")
    + "---\n"
    + _daemonset(
        "kube-flannel-ds",
        "kube-flannel",
        "flannel",
        f"docker.io/flannel/flannel:{FLANNEL_VERSION}",
        "10-flannel.conflist",
        _conflist("cbr0", "flannel"),
        "FLANNEL_NETWORK",
    ).replace("serviceAccountName: kube-flannel-ds", "serviceAccountName: flannel"),
)

ADDONS = (CALICO, FLANNEL)

_IMAGE = re.compile(r"^\s*(?:-\s*)?image:\s*['\"]?([^'\"\s]+)", re.MULTILINE)


def manifest_images(text: str) -> list[str]:
    """The images a manifest references, in order, once each."""
    return list(dict.fromkeys(_IMAGE.findall(text)))
