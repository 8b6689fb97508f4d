"""Where sealer puts things on the hosts. One place, so that facts, steps and clean agree."""

from __future__ import annotations

from typing import Final

__all__ = [
    "ADMIN_CONF",
    "CLEAN_PATHS",
    "KUBELET_UNIT",
    "KUBE_BINARIES",
    "PACKAGE_DIR",
    "RUN_LOCK",
    "STATE_DIR",
    "UNPACKED_DIR",
    "USER_KUBECONFIG",
    "WRITTEN_DIRS",
]

#: sealer's own directory on a host.
STATE_DIR: Final = "/var/lib/sealer"
#: The offline package and its unpacked tree live here (not in /root, which a sudo user may
#: not own and which users clean by hand).
PACKAGE_DIR: Final = f"{STATE_DIR}/package"
UNPACKED_DIR: Final = f"{PACKAGE_DIR}/kube"
#: The run lock (sealer/lock/): on every master, held while apply, clean or certs renew run.
#: `clean` leaves it to the run that holds it, which removes it (and STATE_DIR when empty).
RUN_LOCK: Final = f"{STATE_DIR}/run.lock"
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
    PACKAGE_DIR,  # not all of STATE_DIR: the run lock of the clean itself lives there
)
