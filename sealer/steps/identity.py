"""``identity``: record who the cluster is, on a host and in the cluster.

The host's copy is ``/var/lib/sealer/cluster.json`` (name, uid, creation time), written over
SFTP; the cluster's is the ConfigMap ``kube-system/sealer-cluster``, created once and never
changed: finding another identity there is an error, not something to overwrite. init and the
joins record the identity themselves when they finish; this step is for hosts that joined
before sealer recorded identities.
"""

from __future__ import annotations

from dataclasses import dataclass

from sealer.engine.context import RunContext
from sealer.engine.step import StepOutcome, changed
from sealer.errors import StepError
from sealer.facts.base import collect
from sealer.facts.identity import (
    CONFIGMAP_NAME,
    CONFIGMAP_NAMESPACE,
    ClusterIdentity,
    cluster_identity_configmap,
)
from sealer.layout import ADMIN_CONF, CLUSTER_IDENTITY, INIT_MARKER
from sealer.plan.payloads import IdentityPayload
from sealer.steps.base import KindStep, StepBuilder
from sealer.steps.target import Target

__all__ = ["BUILDERS", "Identity", "record_identity_in_cluster", "write_host_identity"]


async def write_host_identity(target: Target, host: str, path: str = CLUSTER_IDENTITY) -> None:
    """The cluster's identity in ``path`` on ``host`` (the init marker uses the same form)."""
    access = target.access[host]
    await target.conns.run(access, ["mkdir", "-p", path.rsplit("/", 1)[0]])
    await target.conns.put(access, target.identity.to_json(), path, mode=0o644)
    if path == CLUSTER_IDENTITY:
        await target.conns.run(access, ["rm", "-f", INIT_MARKER])


async def record_identity_in_cluster(target: Target, host: str) -> None:
    """Create the identity ConfigMap through ``host``'s admin.conf; one that exists already
    must hold the same identity."""
    identity = target.identity
    access = target.access[host]
    found = await collect(target.conns, access, cluster_identity_configmap)
    if found is None:
        literals = [f"--from-literal={k}={v}" for k, v in sorted(identity.to_dict().items())]
        argv = [
            "kubectl", "--kubeconfig", ADMIN_CONF, "--namespace", CONFIGMAP_NAMESPACE,
            "create", "configmap", CONFIGMAP_NAME, *literals,
        ]  # fmt: skip
        created = await target.conns.run(access, argv, check=False)
        if created.ok:
            return
        if "AlreadyExists" not in created.stderr and "already exists" not in created.stderr:
            await target.conns.run(access, argv)  # raises CommandFailed with the output
        found = await collect(target.conns, access, cluster_identity_configmap)
    if found is None or found.uid != identity.uid:
        _mismatch(host, identity, found)


def _mismatch(host: str, want: ClusterIdentity, found: ClusterIdentity | None) -> None:
    raise StepError(
        "identity",
        host,
        f"the cluster records itself as {found.describe() if found else 'nothing'} in ConfigMap "
        f"{CONFIGMAP_NAMESPACE}/{CONFIGMAP_NAME}, not {want.describe()}: it is another cluster, "
        "and sealer does not overwrite its identity",
    )


@dataclass(frozen=True)
class Identity(KindStep[IdentityPayload]):
    """Write the identity file on the host (and the cluster's ConfigMap when asked)."""

    async def run(self, _ctx: RunContext) -> StepOutcome:
        if self.payload.in_cluster:
            await record_identity_in_cluster(self.target, self.host)
        await write_host_identity(self.target, self.host)
        return changed(f"cluster identity {self.target.identity.describe()} recorded")


BUILDERS = (StepBuilder(IdentityPayload, Identity),)
