"""The container runtime must answer before kubeadm runs on a host (shared by install, init,
join-master and join-node; no step of its own).

The package's init.sh installs and starts the runtime (containerd), as Sealos's does. A
runtime that does not answer on the kubelet's endpoint makes the kubelet exit at start, which
``kubeadm init``/``join`` only reports minutes later as a kubelet that never came up. So the
install step asks the runtime right after init.sh, and init and the joins ask again before
they change anything: a host whose package is already installed, but not joined yet, is
checked on a re-apply too. ``NetworkReady=false`` (no CNI configuration yet) is normal before
the network add-on and does not fail the check.
"""

from __future__ import annotations

from sealer.errors import StepError
from sealer.facts.base import collect
from sealer.facts.runtime import RuntimeStatus, runtime_status
from sealer.kube.kubeadm_config import cri_socket_of, render_kubeadm_config
from sealer.steps.target import Target

__all__ = ["check_runtime", "runtime_endpoint", "runtime_unit"]


def runtime_endpoint(target: Target, host: str) -> str:
    """The endpoint the host's kubelet will be given (its kubeadm configuration's
    ``nodeRegistration.criSocket``)."""
    rendered = render_kubeadm_config(target.cluster, host, target.kube_facts.get(host))
    return cri_socket_of(rendered)


def runtime_unit(endpoint: str) -> str:
    """The systemd unit of the runtime behind ``endpoint``, for the hint."""
    for needle, unit in (("cri-dockerd", "cri-docker"), ("crio", "crio"), ("docker", "docker")):
        if needle in endpoint:
            return unit
    return "containerd"


async def check_runtime(target: Target, step: str, host: str) -> RuntimeStatus:
    """``crictl --runtime-endpoint EP info`` on ``host``; a :class:`StepError` naming the
    host, the endpoint, crictl's message and what to look at when the runtime does not
    answer."""
    endpoint = runtime_endpoint(target, host)
    status = await collect(target.conns, target.access[host], runtime_status(endpoint))
    if status.answers:
        return status
    unit = runtime_unit(endpoint)
    raise StepError(
        step,
        host,
        f"the container runtime does not answer on {endpoint} ({status.detail}); the "
        "kubelet cannot start without it, so kubeadm was not run. The package's init.sh "
        f"installs and starts the runtime: see `systemctl status {unit}` and `journalctl -u "
        f"{unit}` on {host}, then run apply again",
    )
