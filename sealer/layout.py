"""Where sealer puts things on the hosts. One place, so that facts, steps and clean agree."""

from __future__ import annotations

from typing import Final

__all__ = [
    "ADMIN_CONF",
    "CLEAN_PATHS",
    "CLUSTER_IDENTITY",
    "ETCD_DATA",
    "INIT_MARKER",
    "KUBELET_UNIT",
    "KUBE_BINARIES",
    "PACKAGE_DIR",
    "RUN_LOCK",
    "SNAPSHOT_DIR",
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

#: Who the cluster is (name, uid): written on every host once it has initialised or joined
#: the cluster, so that a host is never taken over by a run for another cluster.
CLUSTER_IDENTITY: Final = f"{STATE_DIR}/cluster.json"
#: Written on master0 just before `kubeadm init` and removed once the identity is recorded:
#: control-plane files on master0 with this marker and no identity are sealer's own init that
#: stopped half-way (safe to reset); without it they are a cluster that existed.
INIT_MARKER: Final = f"{STATE_DIR}/init.json"
#: etcd snapshots sealer takes before destructive changes (the newest few are kept).
SNAPSHOT_DIR: Final = f"{STATE_DIR}/snapshots"
#: etcd's data of a member: present means this host holds (a copy of) the cluster's data.
ETCD_DATA: Final = "/var/lib/etcd/member"

#: Directories sealer writes single files into (its /etc/hosts block, the load balancer, the
#: kubeconfig copy): `clean` removes uploads an interruption left there.
WRITTEN_DIRS: Final = (
    "/etc",
    "/etc/systemd/system",
    "/etc/sealer",
    "/usr/local/bin",
    "/root/.kube",
    STATE_DIR,
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
    # not all of STATE_DIR: the run lock of the clean itself lives there
    PACKAGE_DIR,
    CLUSTER_IDENTITY,
    INIT_MARKER,
    SNAPSHOT_DIR,
)
