"""The master that cluster-wide commands run on, and kubectl there (with the admin kubeconfig):
what join-node, drain and delete-node ask the API server."""

from __future__ import annotations

from collections.abc import Sequence

from sealer.aio import poll_until
from sealer.connect import HostAccess, Result
from sealer.errors import CommandFailed
from sealer.layout import ADMIN_CONF
from sealer.steps.target import Target

__all__ = [
    "API_RETRY_PAUSE",
    "API_RETRY_SECONDS",
    "TRANSIENT_API_ERRORS",
    "api_master",
    "kubectl",
    "run_repeatable_kubectl",
]

#: What kubectl prints when the API server could not finish a request for a passing reason:
#: etcd electing a leader (a member was just removed or a master restarted) or too slow for a
#: moment. Such a request may be asked again when asking twice does no harm.
TRANSIENT_API_ERRORS = (
    "Error from server (InternalError)",
    "Error from server (ServiceUnavailable)",
    "Error from server (Timeout)",
    "etcdserver: leader changed",
    "etcdserver: no leader",
    "etcdserver: request timed out",
    "the server is currently unable to handle the request",
)
#: How long a repeatable request is asked again, and the pause between two tries.
API_RETRY_SECONDS = 60.0
API_RETRY_PAUSE = 2.0


def api_master(target: Target) -> str:
    """The master whose API server and kubeadm the run uses for cluster-wide commands."""
    return target.live.api_host or target.cluster.spec.master0


def kubectl(*args: str) -> list[str]:
    """``kubectl --kubeconfig ADMIN_CONF ARGS``: run it on :func:`api_master`."""
    return ["kubectl", "--kubeconfig", ADMIN_CONF, *args]


async def run_repeatable_kubectl(
    target: Target, access: HostAccess, argv: Sequence[str], *, timeout: float | None = None
) -> Result:
    """Run a kubectl request whose repeat does no harm (a read, a delete that ignores "not
    found", a drain), asking again for :data:`API_RETRY_SECONDS` while the API server answers
    with a transient error; any other failure, or the last transient one, is raised."""

    async def attempt() -> Result | CommandFailed:
        try:
            return await target.conns.run(access, argv, timeout=timeout)
        except CommandFailed as exc:
            if not any(marker in exc.stderr for marker in TRANSIENT_API_ERRORS):
                raise
            return exc

    answer = await poll_until(
        attempt,
        timeout=API_RETRY_SECONDS,
        interval=API_RETRY_PAUSE,
        done=lambda value: not isinstance(value, CommandFailed),
    )
    if isinstance(answer, CommandFailed):
        raise answer
    return answer
