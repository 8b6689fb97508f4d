"""``cni``: apply the network add-on with kubectl, once per manifest.

On the master the cluster is read from (master0 right after init): read the record
(ConfigMap ``kube-system/sealer-cni``, :mod:`sealer.facts.addon`); when it names the same
manifest sha256 there is nothing to do; another add-on type is refused (the planner refuses it
first). Otherwise the rendered manifest is uploaded (``/etc/kubernetes/sealer/cni.yaml``, over
SFTP), ``kubectl apply -f`` it, then the record is applied the same way. The step does not
wait for the add-on's pods: each node turns Ready when its agent has written the CNI
configuration, and joins do not wait for this step.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sealer.engine.context import RunContext
from sealer.engine.step import StepOutcome, changed, unchanged
from sealer.errors import StepError
from sealer.facts.addon import ADDON_CONFIGMAP, ADDON_NAMESPACE, AppliedAddon, applied_addon
from sealer.facts.base import collect
from sealer.layout import CNI_MANIFEST_PATH, CNI_RECORD_PATH, SEALER_KUBE_DIR
from sealer.plan.payloads import CniPayload
from sealer.steps.api_master import kubectl, run_repeatable_kubectl
from sealer.steps.base import KindStep, StepBuilder

__all__ = ["BUILDERS", "Cni", "record_manifest"]


def record_manifest(record: AppliedAddon) -> bytes:
    """The ConfigMap that records what was applied (JSON, which kubectl applies as YAML)."""
    doc = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": ADDON_CONFIGMAP,
            "namespace": ADDON_NAMESPACE,
            "labels": {"app.kubernetes.io/managed-by": "sealer"},
        },
        "data": record.to_data(),
    }
    return (json.dumps(doc, indent=2, sort_keys=True) + "\n").encode()


@dataclass(frozen=True)
class Cni(KindStep[CniPayload]):
    """Apply the add-on's manifest unless the cluster records this very one."""

    async def run(self, _ctx: RunContext) -> StepOutcome:
        t, p = self.target, self.payload
        access = t.access[self.host]
        addon = t.package.addon
        if addon is None or addon.sha256 != p.sha256:
            raise RuntimeError("the run's package does not hold the planned add-on")  # a bug
        applied = await collect(t.conns, access, applied_addon)
        if applied is not None and applied.type != p.addon_type:
            raise StepError(
                self.name,
                self.host,
                f"the cluster runs the {applied.type} network add-on, not {p.addon_type}: "
                "sealer does not replace a running cluster's add-on",
            )
        if applied is not None and applied.sha256 == p.sha256:
            return unchanged(f"network add-on {p.addon_type} already applied")
        await t.conns.run(access, ["mkdir", "-p", SEALER_KUBE_DIR])
        await t.conns.put(access, addon.text.encode(), CNI_MANIFEST_PATH, mode=0o600)
        await run_repeatable_kubectl(t, access, kubectl("apply", "-f", CNI_MANIFEST_PATH))
        record = AppliedAddon(p.addon_type, p.sha256, p.manifest)
        await t.conns.put(access, record_manifest(record), CNI_RECORD_PATH, mode=0o600)
        await run_repeatable_kubectl(t, access, kubectl("apply", "-f", CNI_RECORD_PATH))
        return changed(f"network add-on {p.addon_type} applied (kube/{p.manifest})")


BUILDERS = (StepBuilder(CniPayload, Cni),)
