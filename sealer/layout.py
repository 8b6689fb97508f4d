"""Where sealer, kubeadm and the care daemon keep their files on the hosts (constants only).

The one module of remote paths: facts, steps, certs renew, clean and the lock all name a
host's files from here, so that what one writes is what the others read and remove. It
imports nothing, so that every layer can use it.
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "ADMIN_CONF",
    "APISERVER_MANIFEST",
    "API_SERVER_PORT",
    "BACKUP_PROGRAM_PATH",
    "BACKUP_SERVICE_NAME",
    "BACKUP_SERVICE_PATH",
    "BACKUP_TIMER_NAME",
    "BACKUP_TIMER_PATH",
    "CARE_CA_PATH",
    "CARE_CONFIG_PATH",
    "CARE_PROGRAM_PATH",
    "CARE_UNIT_NAME",
    "CARE_UNIT_PATH",
    "CERTS_BACKUP_ROOT",
    "CLEAN_PATHS",
    "CLUSTER_IDENTITY",
    "CNI_MANIFEST_PATH",
    "CNI_RECORD_PATH",
    "CRI_SOCKET",
    "ETCD_DATA",
    "ETCD_MANIFEST",
    "ETCD_PKI_DIR",
    "FSTAB",
    "FSTAB_SWAP_MARKER",
    "HOSTS_FILE",
    "INIT_MARKER",
    "KUBEADM_CONFIG_PATH",
    "KUBEADM_RUN_CONFIG_PATH",
    "KUBEADM_TOKEN_CONFIG_PATH",
    "KUBELET_CLIENT_CERT_PATH",
    "KUBELET_CONF",
    "KUBELET_CONFIG",
    "KUBELET_UNIT",
    "KUBERNETES_DIR",
    "KUBE_BINARIES",
    "MANIFESTS_DIR",
    "MODULES_LOAD_FILE",
    "PACKAGE_DIR",
    "PKI_DIR",
    "PYTHON_PATH",
    "RUNTIME_FILES",
    "RUNTIME_SERVICE",
    "RUNTIME_UNIT",
    "RUN_LOCK",
    "SEALER_KUBE_DIR",
    "SNAPSHOT_DIR",
    "STAGED_DIR",
    "STATE_DIR",
    "SYSCTL_FILE",
    "UNPACKED_DIR",
    "USER_KUBECONFIG",
    "WRITTEN_DIRS",
]

HOSTS_FILE: Final = "/etc/hosts"

# -- what the prepare step writes (clean removes the files and restores fstab's lines) ---------

FSTAB: Final = "/etc/fstab"
#: Prefix of a swap line of /etc/fstab that sealer commented out (clean takes it off again).
FSTAB_SWAP_MARKER: Final = "#sealer-swapoff# "
MODULES_LOAD_FILE: Final = "/etc/modules-load.d/sealer.conf"
SYSCTL_FILE: Final = "/etc/sysctl.d/99-sealer.conf"

# -- kubeadm's files, and sealer's next to them -----------------------------------------------

#: Root of every path in a PKI file map (``pki/ca.crt`` is ``/etc/kubernetes/pki/ca.crt``).
KUBERNETES_DIR: Final = "/etc/kubernetes"
PKI_DIR: Final = f"{KUBERNETES_DIR}/pki"
ETCD_PKI_DIR: Final = f"{PKI_DIR}/etcd"
MANIFESTS_DIR: Final = f"{KUBERNETES_DIR}/manifests"
APISERVER_MANIFEST: Final = f"{MANIFESTS_DIR}/kube-apiserver.yaml"
ETCD_MANIFEST: Final = f"{MANIFESTS_DIR}/etcd.yaml"
ADMIN_CONF: Final = f"{KUBERNETES_DIR}/admin.conf"
KUBELET_CONF: Final = f"{KUBERNETES_DIR}/kubelet.conf"
KUBELET_CONFIG: Final = "/var/lib/kubelet/config.yaml"
#: The kubelet's rotated client certificate (kubelet.conf points at it after TLS bootstrap).
KUBELET_CLIENT_CERT_PATH: Final = "/var/lib/kubelet/pki/kubelet-client-current.pem"
#: Where `sealer certs renew` keeps the files it replaced (a 0700 directory per run);
#: kubeadm keeps its own upgrade backups under /etc/kubernetes/tmp too.
CERTS_BACKUP_ROOT: Final = f"{KUBERNETES_DIR}/tmp"

SEALER_KUBE_DIR: Final = f"{KUBERNETES_DIR}/sealer"
#: The rendered kubeadm configuration sealer keeps on each host, secrets replaced by
#: placeholders (so it can be shown and compared; tokens change on every run).
KUBEADM_CONFIG_PATH: Final = f"{SEALER_KUBE_DIR}/kubeadm.yaml"
#: The same file with the real token and certificate key, mode 0600, written just before
#: ``kubeadm init/join --config`` and removed right after.
KUBEADM_RUN_CONFIG_PATH: Final = f"{SEALER_KUBE_DIR}/kubeadm-run.yaml"
#: The InitConfiguration carrying the bootstrap token sealer makes, mode 0600, written on the
#: API master just before ``kubeadm token create --config`` and removed right after.
KUBEADM_TOKEN_CONFIG_PATH: Final = f"{SEALER_KUBE_DIR}/token-run.yaml"

#: Where a master's API server listens (and the VIP's port on the nodes).
API_SERVER_PORT: Final = 6443
CRI_SOCKET: Final = "unix:///run/containerd/containerd.sock"

#: The network add-on's manifest as sealer applied it last (rendered: @POD_CIDR@ replaced),
#: and the ConfigMap that records it, on the master the cni step ran on.
CNI_MANIFEST_PATH: Final = f"{SEALER_KUBE_DIR}/cni.yaml"
CNI_RECORD_PATH: Final = f"{SEALER_KUBE_DIR}/cni-record.yaml"

# -- the care daemon (sealer/lb/care.py) on every node ----------------------------------------

#: The care daemon's own defaults (``care.DEFAULT_CONFIG_PATH``, ``care.DEFAULT_CA_FILE``) are
#: these paths; it is one stdlib-only file and cannot import them (tests/lb checks they agree).
CARE_PROGRAM_PATH: Final = "/usr/local/bin/sealer-care"
CARE_UNIT_NAME: Final = "sealer-care.service"
CARE_UNIT_PATH: Final = f"/etc/systemd/system/{CARE_UNIT_NAME}"
CARE_CONFIG_PATH: Final = "/etc/sealer/care.json"
#: sealer's own copy of the cluster CA: /etc/kubernetes/pki/ca.crt must not exist before
#: `kubeadm join` on a worker (its preflight refuses an existing file), but the probes need it.
CARE_CA_PATH: Final = "/etc/sealer/ca.crt"
PYTHON_PATH: Final = "/usr/bin/python3"

# -- scheduled etcd snapshots on the masters (spec.backup; sealer/etcd_backup/) ---------------

BACKUP_PROGRAM_PATH: Final = "/usr/local/bin/sealer-etcd-backup"
BACKUP_SERVICE_NAME: Final = "sealer-etcd-backup.service"
BACKUP_SERVICE_PATH: Final = f"/etc/systemd/system/{BACKUP_SERVICE_NAME}"
BACKUP_TIMER_NAME: Final = "sealer-etcd-backup.timer"
BACKUP_TIMER_PATH: Final = f"/etc/systemd/system/{BACKUP_TIMER_NAME}"

# -- sealer's own ---------------------------------------------------------------------------

#: sealer's own directory on a host.
STATE_DIR: Final = "/var/lib/sealer"
#: The offline package and its unpacked tree live here (not in /root, which a sudo user may
#: not own and which users clean by hand).
PACKAGE_DIR: Final = f"{STATE_DIR}/package"
UNPACKED_DIR: Final = f"{PACKAGE_DIR}/kube"
#: An upgrade's package, unpacked next to the running one (``STAGED_DIR/<version>/kube``)
#: until the host runs it; then it becomes UNPACKED_DIR.
STAGED_DIR: Final = f"{PACKAGE_DIR}/staged"
#: The run lock (sealer/lock/): on every master, held while apply, clean or certs renew run.
#: `clean` leaves it to the run that holds it, which removes it (and STATE_DIR when empty).
RUN_LOCK: Final = f"{STATE_DIR}/run.lock"
USER_KUBECONFIG: Final = "/root/.kube/config"
#: Installed by the package's init.sh; /usr/bin on a real host, /usr/local/bin in the lab
#: (the container runtime's programs too: `clean` removes those that are the package's bytes).
KUBE_BINARIES: Final = ("kubeadm", "kubelet", "kubectl", "containerd", "crictl")

KUBELET_UNIT: Final = "/etc/systemd/system/kubelet.service"
#: The container runtime's unit and the files the package's init.sh writes for it.
RUNTIME_SERVICE: Final = "containerd"
RUNTIME_UNIT: Final = f"/etc/systemd/system/{RUNTIME_SERVICE}.service"
RUNTIME_FILES: Final = (RUNTIME_UNIT, "/etc/containerd/config.toml", "/etc/crictl.yaml")

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
    KUBERNETES_DIR,
    MODULES_LOAD_FILE,
    SYSCTL_FILE,
    "/var/lib/kubelet",
    "/var/lib/etcd",
    "/etc/cni",
    "/opt/cni",
    "/root/.kube",
    KUBELET_UNIT,
    "/etc/systemd/system/kubelet.service.d",
    *RUNTIME_FILES,
    # not all of STATE_DIR: the run lock of the clean itself lives there
    PACKAGE_DIR,
    CLUSTER_IDENTITY,
    INIT_MARKER,
    SNAPSHOT_DIR,
)
