"""clean: giving a host back.

``clean`` undoes everything an install put on a host: ``kubeadm reset -f`` (which also
removes a master's etcd member), the load-balancer daemon and its rules, the scheduled etcd
snapshot's timer, service and program (``spec.backup``; the snapshots stay), the kubelet unit,
the Kubernetes directories, the binaries the package installed, sealer's /etc/hosts block,
the package, and what ``prepare`` added (its modules-load.d and sysctl.d files, the swap lines
it commented out of /etc/fstab; swap is not turned back on). It is safe on a host that was
never installed and on one half-cleaned.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sealer.connect.command import builtin_argv
from sealer.connect.pool import HOME_STAGED_PATTERN, STAGED_PATTERN
from sealer.engine.context import RunContext
from sealer.engine.step import StepOutcome, changed, unchanged
from sealer.facts.system import parse_sha256sums
from sealer.layout import (
    CARE_PROGRAM_PATH,
    CLEAN_PATHS,
    KUBE_BINARIES,
    KUBELET_UNIT,
    RUNTIME_SERVICE,
    RUNTIME_UNIT,
    UNPACKED_DIR,
    WRITTEN_DIRS,
)
from sealer.lb.clean import clean_plan
from sealer.plan.payloads import CleanPayload
from sealer.steps.backup_schedule import remove_backup_schedule
from sealer.steps.base import KindStep, StepBuilder
from sealer.steps.control_plane import KUBEADM_TIMEOUT, reset_argv
from sealer.steps.etcd_safety import prepare_master_reset
from sealer.steps.hosts import write_hosts_block
from sealer.steps.prepare import restore_fstab
from sealer.steps.target import Target

__all__ = ["BUILDERS", "Clean", "clean_host"]


async def _present(target: Target, host: str, paths: Sequence[str]) -> list[str]:
    """Which of ``paths`` exist on ``host``."""
    if not paths:
        return []
    listed = await target.conns.run(target.access[host], ["ls", "-d", "--", *paths], check=False)
    return [p for p in listed.stdout.splitlines() if p.startswith("/")]


async def _remove_staged_uploads(target: Target, host: str) -> bool:
    """Remove what an interrupted upload left next to the files sealer writes."""
    conns, access = target.conns, target.access[host]
    found = await conns.run(
        access,
        ["find", *WRITTEN_DIRS, ".", "-maxdepth", "1", "-type", "f", "(",
         "-name", STAGED_PATTERN, "-o", "-name", HOME_STAGED_PATTERN, ")"],
        check=False,
    )  # fmt: skip
    leftovers = [p for p in found.stdout.splitlines() if p]
    if leftovers:
        await conns.run(access, ["rm", "-f", "--", *leftovers])
    return bool(leftovers)


async def clean_host(target: Target, host: str, *, member_removed: bool = False) -> list[str]:
    """Remove every trace of the install from ``host``; return what was done.

    ``member_removed``: sealer has already removed the host's etcd member (checked against a
    quorum), so kubeadm's own removal phase is skipped: it would look for a member that is
    gone, through an etcd that stopped when it was removed."""
    conns = target.conns
    access = target.access[host]
    done: list[str] = []
    # the timer first: a snapshot must not start while etcd is being reset
    scheduled = await remove_backup_schedule(target, host)
    if scheduled is not None:
        done.append(scheduled)
    has_kubeadm = await conns.run(access, builtin_argv("command", "-v", "kubeadm"), check=False)
    if has_kubeadm.ok:
        await conns.run(access, reset_argv(member_removed=member_removed), timeout=KUBEADM_TIMEOUT)
        done.append("kubeadm reset")
    program = await conns.run(access, ["test", "-e", CARE_PROGRAM_PATH], check=False)
    lb = clean_plan(program_present=program.ok, vip=target.cluster.spec.vip)
    removed_rules = False
    for command in lb.before:
        result = await conns.run(access, list(command.argv), check=not command.may_fail)
        removed_rules = removed_rules or (result.ok and command.argv[0] != "systemctl")
    lb_files = await _present(target, host, lb.paths)
    if lb_files:
        await conns.run(access, ["rm", "-f", "--", *lb_files])
        for command in lb.after:
            await conns.run(access, list(command.argv), check=not command.may_fail)
    if lb_files or removed_rules:
        done.append("load balancer removed")
    has_kubelet = await conns.run(access, ["test", "-e", KUBELET_UNIT], check=False)
    if has_kubelet.ok:
        await conns.run(access, ["systemctl", "disable", "--now", "kubelet"], check=False)
    has_runtime = await conns.run(access, ["test", "-e", RUNTIME_UNIT], check=False)
    if has_runtime.ok:
        await conns.run(access, ["systemctl", "disable", "--now", RUNTIME_SERVICE], check=False)
    binaries = await _package_binaries(target, host)
    paths = await _present(target, host, CLEAN_PATHS)
    if binaries or paths:
        removed = await conns.run(access, ["rm", "-rf", "--", *paths, *binaries], check=False)
        if not removed.ok:
            # A directory that is a mount point (a disk for /var/lib/etcd, say) cannot go:
            # empty it instead and leave the mount alone.
            for path in await _present(target, host, paths):
                await conns.run(access, ["find", path, "-mindepth", "1", "-delete"])
        done.append(f"removed {len(paths) + len(binaries)} paths")
    if has_kubelet.ok or has_runtime.ok:
        await conns.run(access, ["systemctl", "daemon-reload"], check=False)
    if await _remove_staged_uploads(target, host):
        done.append("interrupted uploads removed")
    if await write_hosts_block(target, host, ()):
        done.append("/etc/hosts block removed")
    if await restore_fstab(target, host):
        done.append("swap lines of /etc/fstab given back")
    return done


async def _package_binaries(target: Target, host: str) -> list[str]:
    """The Kubernetes binaries on the host's PATH that sealer's package installed: the same
    bytes as the package's own copy. A kubectl the host had before (a distribution's, the
    administrator's) is not sealer's to remove, and neither is one once the package is gone."""
    conns, access = target.conns, target.access[host]
    found: dict[str, str] = {}
    for name in KUBE_BINARIES:  # `command -v a b c` reports only the first in dash
        result = await conns.run(access, builtin_argv("command", "-v", name), check=False)
        path = result.stdout.strip()
        if result.ok and path.startswith("/"):
            found[name] = path
    if not found:
        return []
    packaged = {name: f"{UNPACKED_DIR}/bin/{name}" for name in found}
    sums = await conns.run(
        access, ["sha256sum", "--", *found.values(), *packaged.values()], check=False
    )
    digests = parse_sha256sums(sums.stdout)
    return [
        path
        for name, path in found.items()
        if digests.get(path) is not None and digests.get(path) == digests.get(packaged[name])
    ]


@dataclass(frozen=True)
class Clean(KindStep[CleanPayload]):
    """Give a host back. ``remove_etcd_member``: it is a master leaving a cluster that stays,
    so etcd is checked healthy with a quorum left without it, and its member removed, first."""

    async def run(self, _ctx: RunContext) -> StepOutcome:
        removed = 0
        if self.payload.remove_etcd_member:
            removed = await prepare_master_reset(self.target, self.name, self.host)
        done = await clean_host(
            self.target, self.host, member_removed=self.payload.remove_etcd_member
        )
        if removed:
            done.insert(0, "etcd member removed")
        if not done:
            return unchanged("nothing of the install is left on the host")
        return changed("; ".join(done))


BUILDERS = (StepBuilder(CleanPayload, Clean),)
