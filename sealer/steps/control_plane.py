"""What init and the joins share: running kubeadm, resets, the master PKI upload, readiness.

Before ``kubeadm init`` or a control-plane join, sealer puts the whole PKI of that master in
place (long-lived leaves from the cluster's CAs): kubeadm validates existing files against
the CA and keeps them. The configuration used is kept, secrets replaced by placeholders, at
/etc/kubernetes/sealer/kubeadm.yaml; the copy with the real token and key is written 0600
just for the kubeadm run and removed after it.

The steps themselves are :mod:`sealer.steps.init`, :mod:`sealer.steps.join_master` and
:mod:`sealer.steps.join_node`.
"""

from __future__ import annotations

from sealer.facts.base import collect
from sealer.facts.health import api_ready
from sealer.facts.kube import kube_state
from sealer.kube.kubeadm_config import JoinSecrets, render_kubeadm_config
from sealer.kube.pki import issue_master_pki
from sealer.layout import (
    ADMIN_CONF,
    APISERVER_MANIFEST,
    ETCD_DATA,
    ETCD_MANIFEST,
    KUBEADM_CONFIG_PATH,
    KUBEADM_RUN_CONFIG_PATH,
    KUBELET_CONF,
    SEALER_KUBE_DIR,
    USER_KUBECONFIG,
)
from sealer.steps.remote_files import upload_kubernetes_files
from sealer.steps.target import Target

__all__ = [
    "KUBEADM_TIMEOUT",
    "LEFTOVERS",
    "READY_TIMEOUT",
    "install_admin_kubeconfig",
    "is_control_plane",
    "kubeadm_leftovers",
    "kubeadm_reset",
    "put_master_pki",
    "reset_argv",
    "run_kubeadm",
]

#: kubeadm init/join wait for the control plane; give them room on slow machines.
KUBEADM_TIMEOUT = 900.0

#: How long a new control-plane member may take to serve /readyz after its join.
READY_TIMEOUT = 300.0


async def is_control_plane(target: Target, host: str) -> bool:
    return (await collect(target.conns, target.access[host], api_ready)).ok


async def run_kubeadm(
    target: Target, host: str, verb: list[str], secrets: JoinSecrets | None
) -> None:
    access = target.access[host]
    shown = render_kubeadm_config(target.cluster, host, target.kube_facts.get(host))
    real = render_kubeadm_config(target.cluster, host, target.kube_facts.get(host), secrets)
    await target.conns.run(access, ["mkdir", "-p", SEALER_KUBE_DIR])
    await target.conns.put(access, shown.to_yaml().encode(), KUBEADM_CONFIG_PATH, mode=0o600)
    await target.conns.put(access, real.to_yaml().encode(), KUBEADM_RUN_CONFIG_PATH, mode=0o600)
    try:
        await target.conns.run(
            access, ["kubeadm", *verb, "--config", KUBEADM_RUN_CONFIG_PATH], timeout=KUBEADM_TIMEOUT
        )
    finally:
        await target.conns.run(access, ["rm", "-f", KUBEADM_RUN_CONFIG_PATH], check=False)


#: What a kubeadm run leaves on a host that makes the next one refuse to start (its preflight).
LEFTOVERS = (KUBELET_CONF, APISERVER_MANIFEST, ETCD_MANIFEST, ETCD_DATA)


async def kubeadm_leftovers(target: Target, host: str) -> list[str]:
    """Which of :data:`LEFTOVERS` are on ``host``."""
    state = await collect(target.conns, target.access[host], kube_state)
    return [p for p in LEFTOVERS if p in state.present]


def reset_argv(*, member_removed: bool) -> list[str]:
    """``kubeadm reset -f``; without its ``remove-etcd-member`` phase when sealer did that."""
    argv = ["kubeadm", "reset", "-f"]
    if member_removed:
        argv.append("--skip-phases=remove-etcd-member")
    return argv


async def kubeadm_reset(target: Target, host: str) -> None:
    argv = reset_argv(member_removed=False)
    await target.conns.run(target.access[host], argv, timeout=KUBEADM_TIMEOUT)


async def install_admin_kubeconfig(target: Target, host: str) -> None:
    access = target.access[host]
    await target.conns.run(access, ["mkdir", "-p", USER_KUBECONFIG.rsplit("/", 1)[0]])
    await target.conns.run(access, ["install", "-m", "0600", ADMIN_CONF, USER_KUBECONFIG])


async def put_master_pki(target: Target, host: str, *, init_master: bool) -> None:
    files = issue_master_pki(
        target.ca,
        target.cluster,
        host,
        target.hostname(host),
        resolved=target.live.resolved,
        init_master=init_master,
    )
    await upload_kubernetes_files(target, host, files)
