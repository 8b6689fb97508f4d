"""distribute: the offline package onto a host, verified, unpacked and installed.

A host that already has the right file skips the copy. Otherwise the copy comes from where the
planner said (``payload.source``): another host's verified copy over the cluster network (the
relay, :mod:`sealer.steps.relay_copy`), or the workstation over SFTP to a temporary name renamed
only once complete (the connection layer does that). When the relay cannot work (the hosts
cannot reach each other, the source's copy is corrupt) the step uploads from the workstation and
its reason says why. Either way the sha256 is checked on the host afterwards. Then
``tar -xzf`` into a fresh ``kube/`` and the package's own ``cd kube/shell && bash init.sh``,
as the package's authors intend.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sealer.engine.context import RunContext
from sealer.engine.step import StepOutcome, changed, unchanged
from sealer.errors import StepError
from sealer.facts.system import parse_sha256sum
from sealer.layout import PACKAGE_DIR, UNPACKED_DIR
from sealer.plan.payloads import DistributePayload
from sealer.steps.base import KindStep, StepBuilder
from sealer.steps.relay_copy import relay_copy

__all__ = ["BUILDERS", "PACKAGE_TIMEOUT", "Distribute"]

#: Unpacking the package and its init.sh (which may load container images) get this long.
PACKAGE_TIMEOUT = 1800.0


@dataclass(frozen=True)
class Distribute(KindStep[DistributePayload]):
    async def run(self, _ctx: RunContext) -> StepOutcome:
        t = self.target
        access = t.access[self.host]
        pkg = t.package
        remote = f"{PACKAGE_DIR}/{pkg.name}"
        await t.conns.run(access, ["mkdir", "-p", PACKAGE_DIR])
        have = parse_sha256sum(await t.conns.run(access, ["sha256sum", remote], check=False))
        copied = ""
        if have != pkg.sha256:
            copied = await self._copy(remote)
            have = parse_sha256sum(await t.conns.run(access, ["sha256sum", remote], check=False))
            if have != pkg.sha256:
                await t.conns.run(access, ["rm", "-f", remote], check=False)
                raise StepError(
                    self.name,
                    self.host,
                    f"the copied package has sha256 {have}, expected {pkg.sha256}; removed it",
                )
        version = await self._installed_version()
        if not copied and version == t.cluster.spec.version:
            return unchanged("package and binaries already in place")
        await t.conns.run(access, ["rm", "-rf", UNPACKED_DIR])
        await t.conns.run(
            access, ["tar", "-xzf", remote, "-C", PACKAGE_DIR], timeout=PACKAGE_TIMEOUT
        )
        metadata = await t.conns.read_file(access, f"{UNPACKED_DIR}/Metadata")
        self._check_metadata(metadata)
        await t.conns.run(
            access, ["bash", "init.sh"], cwd=f"{UNPACKED_DIR}/shell", timeout=PACKAGE_TIMEOUT
        )
        version = await self._installed_version()
        if version != t.cluster.spec.version:
            raise StepError(
                self.name,
                self.host,
                f"after init.sh, kubeadm reports {version or 'nothing'}, "
                f"expected {t.cluster.spec.version}",
            )
        return changed(f"{copied}; installed the package" if copied else "installed the package")

    async def _copy(self, remote: str) -> str:
        """Copy the package onto the host; say where from."""
        t = self.target
        source = self.payload.source
        why = ""
        if source is not None:
            relayed = await relay_copy(t, source, self.host, remote)
            if relayed.done:
                return f"copied from {source} (relay)"
            why = relayed.why
        await t.conns.put(t.access[self.host], t.package.path, remote, mode=0o644)
        if why:
            return f"copied from the workstation: {why}"
        return "copied from the workstation"

    async def _installed_version(self) -> str | None:
        t = self.target
        result = await t.conns.run(
            t.access[self.host], ["kubeadm", "version", "-o", "short"], check=False
        )
        return result.stdout.strip() or None if result.ok else None

    def _check_metadata(self, data: bytes | None) -> None:
        want = self.target.cluster.spec.version
        try:
            version = json.loads(data or b"{}").get("k8sVersion")
        except ValueError:
            version = None
        if version != want:
            raise StepError(
                self.name,
                self.host,
                f"the unpacked package's Metadata says {version or 'nothing'}, expected {want}",
            )


BUILDERS = (StepBuilder(DistributePayload, Distribute),)
