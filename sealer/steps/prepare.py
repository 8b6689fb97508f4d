"""prepare: fix what preflight found wrong on a host, and only that, before ``distribute``.

* swap on: ``swapoff -a``, and each swap line of /etc/fstab commented out with sealer's marker
  (``clean`` takes the marker off again);
* kernel modules missing: ``modprobe`` each, and list them in /etc/modules-load.d/sealer.conf
  so that they load at boot;
* sysctls not 1: written to /etc/sysctl.d/99-sealer.conf (boot) and set now with
  ``sysctl -w``.

The files travel over SFTP; ``clean`` removes sealer's two files and restores fstab.
"""

from __future__ import annotations

from dataclasses import dataclass

from sealer.engine.context import RunContext
from sealer.engine.step import StepOutcome, changed
from sealer.layout import FSTAB, FSTAB_SWAP_MARKER, MODULES_LOAD_FILE, SYSCTL_FILE
from sealer.plan.payloads import PreparePayload
from sealer.steps.base import KindStep, StepBuilder
from sealer.steps.target import Target

__all__ = [
    "BUILDERS",
    "Prepare",
    "comment_out_swap",
    "merge_lines",
    "restore_fstab",
    "restore_swap",
    "sysctl_text",
]


def comment_out_swap(fstab: str) -> str:
    """``fstab`` with every active swap entry (third field ``swap``) commented out with
    :data:`FSTAB_SWAP_MARKER`; every other line kept byte for byte."""
    out = []
    for line in fstab.splitlines(keepends=True):
        fields = line.split()
        if len(fields) >= 3 and not fields[0].startswith("#") and fields[2] == "swap":
            line = FSTAB_SWAP_MARKER + line
        out.append(line)
    return "".join(out)


def restore_swap(fstab: str) -> str:
    """``fstab`` with the lines sealer commented out given back (the marker taken off)."""
    return "".join(line.removeprefix(FSTAB_SWAP_MARKER) for line in fstab.splitlines(keepends=True))


def merge_lines(existing: str, wanted: tuple[str, ...], header: str) -> str:
    """The text of a one-item-per-line file holding ``existing``'s lines plus ``wanted``."""
    lines = [line for line in existing.splitlines() if line.strip()]
    if not lines:
        lines = [header]
    for item in wanted:
        if item not in lines:
            lines.append(item)
    return "\n".join(lines) + "\n"


def sysctl_text(existing: str, keys: tuple[str, ...]) -> str:
    """/etc/sysctl.d/99-sealer.conf with ``keys`` set to 1 (other settings kept)."""
    kept = [
        line
        for line in existing.splitlines()
        if line.strip() and line.split("=", 1)[0].strip() not in keys
    ]
    if not kept:
        kept = ["# written by sealer: what Kubernetes needs (sealer clean removes this file)"]
    return "\n".join([*kept, *(f"{key} = 1" for key in keys)]) + "\n"


async def _read(target: Target, host: str, path: str) -> str:
    return (await target.conns.read_file(target.access[host], path) or b"").decode("utf-8")


async def restore_fstab(target: Target, host: str) -> bool:
    """Give back the swap lines sealer commented out of /etc/fstab; True when it changed."""
    before = await _read(target, host, FSTAB)
    after = restore_swap(before)
    if after == before:
        return False
    await target.conns.put(target.access[host], after.encode("utf-8"), FSTAB, mode=0o644)
    return True


@dataclass(frozen=True)
class Prepare(KindStep[PreparePayload]):
    async def run(self, _ctx: RunContext) -> StepOutcome:
        conns, access, payload = self.target.conns, self.target.access[self.host], self.payload
        done: list[str] = []
        if payload.swap_off:
            await conns.run(access, ["swapoff", "-a"])
            before = await _read(self.target, self.host, FSTAB)
            after = comment_out_swap(before)
            if after != before:
                await conns.put(access, after.encode("utf-8"), FSTAB, mode=0o644)
            done.append("swap off")
        if payload.modules:
            for module in payload.modules:
                await conns.run(access, ["modprobe", "--", module])
            existing = await _read(self.target, self.host, MODULES_LOAD_FILE)
            text = merge_lines(existing, payload.modules, "# written by sealer")
            await conns.run(access, ["mkdir", "-p", MODULES_LOAD_FILE.rsplit("/", 1)[0]])
            await conns.put(access, text.encode("utf-8"), MODULES_LOAD_FILE, mode=0o644)
            done.append(f"loaded {', '.join(payload.modules)}")
        if payload.sysctls:
            existing = await _read(self.target, self.host, SYSCTL_FILE)
            text = sysctl_text(existing, payload.sysctls)
            await conns.run(access, ["mkdir", "-p", SYSCTL_FILE.rsplit("/", 1)[0]])
            await conns.put(access, text.encode("utf-8"), SYSCTL_FILE, mode=0o644)
            await conns.run(access, ["sysctl", "-w", *(f"{k}=1" for k in payload.sysctls)])
            done.append(f"set {', '.join(payload.sysctls)} to 1")
        return changed("; ".join(done))


BUILDERS = (StepBuilder(PreparePayload, Prepare),)
