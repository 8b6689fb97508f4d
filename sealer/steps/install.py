"""install: the package's Kubernetes onto a host, from its verified copy.

``tar -xzf`` into a fresh ``kube/`` (after checking the copy's sha256 once more) with the files
owned by root and the archive's modes filtered through the umask (``--no-same-owner
--no-same-permissions``, then ``chmod -R go-w``: a package built by uid 1000 with loose modes
gives nobody write access to what root runs next), the unpacked Metadata's version checked, the
files of its ``sha256sums`` checked (``sha256sum --check``), then the package's own ``cd
kube/shell && bash init.sh``, as the package's authors intend (members leading out of ``kube/``
were refused on the workstation, :mod:`sealer.package_members`); ``kubeadm version`` must then
report the Clusterfile's version and the container runtime that init.sh started must answer
(:mod:`sealer.steps.runtime_check`). The copy itself is the distribute step's (which this step
waits for when the plan has one), so hosts serve their copies to others (the relay) while they
install.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sealer.engine.context import RunContext
from sealer.engine.step import StepOutcome, changed, unchanged
from sealer.errors import StepError
from sealer.facts.system import parse_sha256sum
from sealer.layout import PACKAGE_DIR, UNPACKED_DIR
from sealer.package_members import sha256sum_check_input
from sealer.plan.payloads import InstallPayload
from sealer.steps.base import KindStep, StepBuilder
from sealer.steps.runtime_check import check_runtime
from sealer.steps.target import Target

__all__ = ["BUILDERS", "PACKAGE_TIMEOUT", "Install", "check_sums", "unpack_argv"]

#: Unpacking the package and its init.sh (which may load container images) get this long.
PACKAGE_TIMEOUT = 1800.0


def unpack_argv(archive: str, into: str = PACKAGE_DIR) -> list[str]:
    """Unpack ``archive`` into ``into``, files owned by the user running tar (root) and modes
    masked by its umask, whatever the archive records."""
    return ["tar", "--no-same-owner", "--no-same-permissions", "-xzf", archive, "-C", into]


async def check_sums(target: Target, step: str, host: str, unpacked: str) -> None:
    """The files of the package's Metadata ``sha256sums`` (when it lists any), unpacked in
    ``unpacked`` on ``host``, must hash to them (``sha256sum --check``)."""
    sums = dict(target.package.sha256sums)
    if not sums:
        return
    result = await target.conns.run(
        target.access[host],
        ["sha256sum", "--check", "--strict", "--quiet", "-"],
        input=sha256sum_check_input(sums),
        cwd=unpacked,
        check=False,
        timeout=PACKAGE_TIMEOUT,
    )
    if not result.ok:
        failed = (result.stdout + result.stderr).strip().replace("\n", "; ")
        raise StepError(
            step,
            host,
            f"the unpacked package does not match the sha256sums of its Metadata: {failed}",
        )


@dataclass(frozen=True)
class Install(KindStep[InstallPayload]):
    async def run(self, _ctx: RunContext) -> StepOutcome:
        t = self.target
        access = t.access[self.host]
        pkg = t.package
        remote = f"{PACKAGE_DIR}/{pkg.name}"
        version = await self._installed_version()
        if not self.payload.new_copy and version == t.cluster.spec.version:
            return unchanged("binaries already in place")
        have = parse_sha256sum(await t.conns.run(access, ["sha256sum", remote], check=False))
        if have != pkg.sha256:
            raise StepError(
                self.name,
                self.host,
                f"the package at {remote} has sha256 {have or 'nothing (missing)'}, expected "
                f"{pkg.sha256}: run apply again to copy it",
            )
        await t.conns.run(access, ["rm", "-rf", UNPACKED_DIR])
        await t.conns.run(access, unpack_argv(remote), timeout=PACKAGE_TIMEOUT)
        await t.conns.run(access, ["chmod", "-R", "go-w", "--", UNPACKED_DIR])
        metadata = await t.conns.read_file(access, f"{UNPACKED_DIR}/Metadata")
        self._check_metadata(metadata)
        await check_sums(t, self.name, self.host, UNPACKED_DIR)
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
        await check_runtime(t, self.name, self.host)
        return changed(f"installed Kubernetes {version} from the package")

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


BUILDERS = (StepBuilder(InstallPayload, Install),)
