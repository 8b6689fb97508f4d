from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from sealer.engine import RunContext, StepOutcome, changed, unchanged


@dataclass
class Journal:
    """What the fake steps did, in order: ("start", id) and ("end", id) entries."""

    entries: list[tuple[str, str]] = field(default_factory=list)

    def ids(self, kind: str) -> list[str]:
        return [sid for k, sid in self.entries if k == kind]


@dataclass(eq=False)
class FakeStep:
    """A step that records itself in a journal and runs ``action`` (if any)."""

    name: str
    host: str | None
    journal: Journal
    action: Callable[[], Awaitable[None]] | None = None
    changes: bool = True

    async def run(self, ctx: RunContext) -> StepOutcome:
        sid = self.name if self.host is None else f"{self.name}@{self.host}"
        self.journal.entries.append(("start", sid))
        if self.action is not None:
            await self.action()
        await asyncio.sleep(0)
        self.journal.entries.append(("end", sid))
        return changed(f"{sid} done") if self.changes else unchanged("already in shape")
