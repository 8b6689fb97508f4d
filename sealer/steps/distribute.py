"""distribute: the offline package onto a host, verified.

A host that already has the right file skips the copy. Otherwise the copy comes from where the
planner said (``payload.source``): another host's verified copy over the cluster network (the
relay, :mod:`sealer.steps.relay_copy`), or the workstation over SFTP to a temporary name renamed
only once complete (the connection layer does that). When the relay cannot work (the hosts
cannot reach each other, the source's copy is corrupt) the step uploads from the workstation and
its reason says why. Either way the sha256 is checked on the host afterwards (a wrong copy is
removed and the step fails). Unpacking and installing is the install step's
(:mod:`sealer.steps.install`), so that a host serves its copy to others while it installs.
"""

from __future__ import annotations

from dataclasses import dataclass

from sealer.engine.context import RunContext
from sealer.engine.step import StepOutcome, changed, unchanged
from sealer.errors import StepError
from sealer.facts.system import parse_sha256sum
from sealer.layout import PACKAGE_DIR
from sealer.plan.payloads import DistributePayload
from sealer.steps.base import KindStep, StepBuilder
from sealer.steps.relay_copy import relay_copy

__all__ = ["BUILDERS", "Distribute"]


@dataclass(frozen=True)
class Distribute(KindStep[DistributePayload]):
    async def run(self, _ctx: RunContext) -> StepOutcome:
        t = self.target
        access = t.access[self.host]
        pkg = t.package
        remote = f"{PACKAGE_DIR}/{pkg.name}"
        await t.conns.run(access, ["mkdir", "-p", PACKAGE_DIR])
        have = parse_sha256sum(await t.conns.run(access, ["sha256sum", remote], check=False))
        if have == pkg.sha256:
            return unchanged("the package is in place (sha256 checked)")
        copied = await self._copy(remote)
        have = parse_sha256sum(await t.conns.run(access, ["sha256sum", remote], check=False))
        if have != pkg.sha256:
            await t.conns.run(access, ["rm", "-f", remote], check=False)
            raise StepError(
                self.name,
                self.host,
                f"the copied package has sha256 {have}, expected {pkg.sha256}; removed it",
            )
        return changed(copied)

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


BUILDERS = (StepBuilder(DistributePayload, Distribute),)
