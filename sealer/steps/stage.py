"""stage: an upgrade's package copied and unpacked next to the running one, nothing run.

The package goes to ``PACKAGE_DIR/<name>`` (SFTP to a temporary name, then sha256 checked on
the host, as ``distribute`` does) and is unpacked into ``STAGED_DIR/<version>/kube``, whose
Metadata must name the target version. Its ``init.sh`` is not run and no installed binary is
touched: the upgrade steps install kubeadm, kubelet and kubectl from there, each at its turn.
A host where the staged tree already holds the right Metadata is left as it is.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sealer.engine.context import RunContext
from sealer.engine.step import StepOutcome, changed, unchanged
from sealer.errors import StepError
from sealer.facts.system import parse_sha256sum
from sealer.layout import PACKAGE_DIR, STAGED_DIR
from sealer.plan.payloads import StagePayload
from sealer.steps.base import KindStep, StepBuilder
from sealer.steps.install import PACKAGE_TIMEOUT, check_sums, unpack_argv

__all__ = ["BUILDERS", "Stage", "metadata_version", "staged_kube"]


def staged_kube(version: str) -> str:
    """Where the package of ``version`` is unpacked on a host (its ``kube/`` tree)."""
    return f"{STAGED_DIR}/{version}/kube"


def metadata_version(data: bytes | None) -> str | None:
    """``k8sVersion`` of a package's ``kube/Metadata`` (None when absent or not JSON)."""
    try:
        version = json.loads(data or b"{}").get("k8sVersion")
    except (ValueError, AttributeError):
        return None
    return str(version) if version else None


@dataclass(frozen=True)
class Stage(KindStep[StagePayload]):
    async def run(self, _ctx: RunContext) -> StepOutcome:
        t = self.target
        access = t.access[self.host]
        pkg = t.package
        want = self.payload.version
        kube = staged_kube(want)
        have = await t.conns.read_file(access, f"{kube}/Metadata")
        if metadata_version(have) == want:
            return unchanged(f"the {want} package is staged in {kube}")
        remote = f"{PACKAGE_DIR}/{pkg.name}"
        await t.conns.run(access, ["mkdir", "-p", PACKAGE_DIR])
        sha = parse_sha256sum(await t.conns.run(access, ["sha256sum", remote], check=False))
        if sha != pkg.sha256:
            await t.conns.put(access, pkg.path, remote, mode=0o644)
            sha = parse_sha256sum(await t.conns.run(access, ["sha256sum", remote], check=False))
            if sha != pkg.sha256:
                await t.conns.run(access, ["rm", "-f", remote], check=False)
                raise StepError(
                    self.name,
                    self.host,
                    f"the copied package has sha256 {sha}, expected {pkg.sha256}; removed it",
                )
        parent = f"{STAGED_DIR}/{want}"
        await t.conns.run(access, ["rm", "-rf", "--", parent])
        await t.conns.run(access, ["mkdir", "-p", "--", parent])
        await t.conns.run(access, unpack_argv(remote, parent), timeout=PACKAGE_TIMEOUT)
        await t.conns.run(access, ["chmod", "-R", "go-w", "--", parent])
        found = metadata_version(await t.conns.read_file(access, f"{kube}/Metadata"))
        if found != want:
            await t.conns.run(access, ["rm", "-rf", "--", parent], check=False)
            raise StepError(
                self.name,
                self.host,
                f"the package's Metadata says {found or 'nothing'}, expected {want}: not staged",
            )
        try:
            await check_sums(t, self.name, self.host, kube)
        except StepError:
            await t.conns.run(access, ["rm", "-rf", "--", parent], check=False)
            raise
        return changed(f"staged the {want} package in {kube} (nothing installed yet)")


BUILDERS = (StepBuilder(StagePayload, Stage),)
