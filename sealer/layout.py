"""Where sealer puts things on the hosts. One place, so that facts, steps and clean agree."""

from __future__ import annotations

from typing import Final

__all__ = [
    "ADMIN_CONF",
    "CLEAN_PATHS",
    "KUBELET_UNIT",
    "KUBE_BINARIES",
    "PACKAGE_DIR",
    "UNPACKED_DIR",
    "USER_KUBECONFIG",
    "WRITTEN_DIRS",
]

#: The offline package and its unpacked tree live here (not in /root, which a sudo user may
#: not own and which users clean by hand).
PACKAGE_DIR: Final = "/var/lib/sealer/package"
UNPACKED_DIR: Final = "/var/lib/sealer/package/kube"
ADMIN_CONF: Final = "/etc/kubernetes/admin.conf"
USER_KUBECONFIG: Final = "/root/.kube/config"
#: Installed by the package's init.sh; /usr/bin on a real host, /usr/local/bin in the lab.
KUBE_BINARIES: Final = ("kubeadm", "kubelet", "kubectl")

KUBELET_UNIT: Final = "/etc/systemd/system/kubelet.service"

#: Directories sealer writes single files into (its /etc/hosts block, the load balancer, the
#: kubeconfig copy): `clean` removes uploads an interruption left there.
WRITTEN_DIRS: Final = (
    "/etc",
    "/etc/systemd/system",
    "/etc/sealer",
    "/usr/local/bin",
    "/root/.kube",
)

#: Everything an install puts on a host that `clean` removes after `kubeadm reset -f`.
CLEAN_PATHS: Final = (
    "/etc/kubernetes",
    "/var/lib/kubelet",
    "/var/lib/etcd",
    "/etc/cni",
    "/opt/cni",
    "/root/.kube",
    KUBELET_UNIT,
    "/etc/systemd/system/kubelet.service.d",
    "/var/lib/sealer",
)
