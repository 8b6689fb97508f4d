"""One relay copy of the package: host SOURCE serves its verified copy, HOST fetches it.

What the distribute step uses when the planner gave a host a source (sealer/plan/relay.py). It
starts the one-shot server of :mod:`sealer.relay.program` on the source, bound to the source's
cluster address, behind a random token (registered as a secret: never in the run log); the
server hashes its copy first and refuses to serve a corrupt one. The host fetches into a
hidden partial file (resumed with a Range request after a cut), checks the sha256 and only then
renames it into place. The server ends when the copy is complete, and is stopped here when it
is not; a server whose run was killed ends on its own after a minute without a request.

Anything that keeps the copy from working is returned as a sentence (the caller then uploads
from the workstation and says why): the hosts cannot reach each other (detected: the
connection fails), the source's copy is corrupt, no python3.
"""

from __future__ import annotations

import contextlib
import secrets
from dataclasses import dataclass

from sealer.connect.settings import HostAccess
from sealer.errors import ConnectError
from sealer.relay import (
    EXIT_CORRUPT,
    EXIT_UNREACHABLE,
    FetchArgs,
    ServeArgs,
    fetch_argv,
    serve_argv,
    stop_argv,
    url_for,
)
from sealer.steps.target import Target

__all__ = ["RelayCopy", "relay_copy"]

#: A copy over the cluster network may take this long (1 GB at 10 MB/s is 100 s).
FETCH_TIMEOUT = 1800.0


@dataclass(frozen=True)
class RelayCopy:
    """How the relay went: ``done`` (the host holds a verified copy), else ``why`` not."""

    done: bool
    why: str = ""


def _tail(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else ""


def _parse_serving(stdout: str) -> tuple[int, int] | None:
    """``serving PORT PID`` -> (port, pid)."""
    words = stdout.split()
    if len(words) == 3 and words[0] == "serving" and words[1].isdigit() and words[2].isdigit():
        return int(words[1]), int(words[2])
    return None


async def relay_copy(target: Target, source: str, host: str, path: str) -> RelayCopy:
    """Copy ``path`` (the run's package) from ``source``'s verified copy onto ``host``."""
    conns = target.conns
    sha256 = target.package.sha256
    token = secrets.token_urlsafe(24)
    conns.add_secret(token)
    bind = target.live.resolved.get(source, source)
    served = await conns.run(
        target.access[source],
        serve_argv(ServeArgs(bind, path, sha256, token, target.upload_limit or 0)),
        check=False,
    )
    if served.exit_status == EXIT_CORRUPT:
        have = served.stdout.split()[-1] if served.stdout.split() else "?"
        return RelayCopy(
            False,
            f"{source}'s copy failed its sha256 check (has {have[:12]}..., want "
            f"{sha256[:12]}...): not served on",
        )
    started = _parse_serving(served.stdout) if served.ok else None
    if started is None:
        said = _tail(served.stderr) or _tail(served.stdout) or f"exit {served.exit_status}"
        return RelayCopy(False, f"{source} could not serve its copy: {said}")
    port, pid = started
    fetched = None
    try:
        fetched = await conns.run(
            target.access[host],
            fetch_argv(
                FetchArgs(url_for(bind, port, token), path, sha256, target.upload_limit or 0)
            ),
            check=False,
            timeout=FETCH_TIMEOUT,
        )
    finally:
        if fetched is None or not fetched.ok:
            await _stop(target, target.access[source], pid, token)
    if fetched.ok:
        return RelayCopy(True)
    said = _tail(fetched.stdout) or _tail(fetched.stderr) or f"exit {fetched.exit_status}"
    if fetched.exit_status == EXIT_UNREACHABLE:
        return RelayCopy(
            False, f"{host} cannot reach {source} ({said.removeprefix('unreachable ')})"
        )
    if fetched.exit_status == EXIT_CORRUPT:
        return RelayCopy(False, f"the copy from {source} arrived with the wrong sha256; removed it")
    return RelayCopy(False, f"the copy from {source} failed: {said}")


async def _stop(target: Target, access: HostAccess, pid: int, token: str) -> None:
    # best effort: a server left running ends on its own after IDLE_SECONDS without a request
    with contextlib.suppress(ConnectError):
        await target.conns.run(access, stop_argv(pid, token), check=False)
