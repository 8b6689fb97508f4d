"""hosts: sealer's marked block in /etc/hosts, rewritten atomically, nothing else touched."""

from __future__ import annotations

from dataclasses import dataclass

from sealer.engine.context import RunContext
from sealer.engine.step import StepOutcome, changed, unchanged
from sealer.facts.hosts import HostsEntry, render_hosts_block, replace_block
from sealer.layout import HOSTS_FILE
from sealer.plan.diff import describe_entries
from sealer.plan.payloads import HostsPayload
from sealer.steps.base import KindStep, StepBuilder
from sealer.steps.target import Target

__all__ = ["BUILDERS", "Hosts", "write_hosts_block"]


async def write_hosts_block(target: Target, host: str, entries: tuple[HostsEntry, ...]) -> bool:
    """Make the block hold ``entries`` (empty: remove it); True when the file changed."""
    access = target.access[host]
    before = (await target.conns.read_file(access, HOSTS_FILE) or b"").decode("utf-8")
    block = render_hosts_block(list(entries)) if entries else ""
    after = replace_block(before, block)
    if after == before:
        return False
    await target.conns.put(access, after.encode("utf-8"), HOSTS_FILE, mode=0o644)
    return True


@dataclass(frozen=True)
class Hosts(KindStep[HostsPayload]):
    async def run(self, _ctx: RunContext) -> StepOutcome:
        entries = self.payload.entries
        if await write_hosts_block(self.target, self.host, entries):
            return changed(f"/etc/hosts: {describe_entries(entries)}")
        return unchanged("/etc/hosts already right")


BUILDERS = (StepBuilder(HostsPayload, Hosts),)
