"""How long `sealer lab up` takes for N hosts, and `down` after it (one run, wall clock).

Usage: python bench/lab_up.py [HOSTS] [--masters M]   (root; default 30 hosts, 3 masters)
Prints one JSON line: hosts, up_seconds, ssh_all_seconds (one `hostname` over SSH on every host
at once), down_seconds. Not a test: figures go to the report and docs/lab.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import time

import asyncssh

import sealer_lab


async def _hostname_everywhere(lab: sealer_lab.Lab) -> list[str]:
    async def one(address: str) -> str:
        async with asyncssh.connect(
            address,
            username="root",
            client_keys=[str(lab.key_path)],
            known_hosts=str(lab.known_hosts),
        ) as conn:
            return str((await conn.run("hostname", check=True)).stdout).strip()

    return await asyncio.gather(*[one(h.address) for h in lab.hosts])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("hosts", type=int, nargs="?", default=30)
    parser.add_argument("--masters", type=int, default=3)
    args = parser.parse_args()
    name = f"bench{secrets.token_hex(2)}"
    t0 = time.monotonic()
    try:
        lab = sealer_lab.up(name, args.masters, args.hosts - args.masters)
        t1 = time.monotonic()
        names = asyncio.run(_hostname_everywhere(lab))
        t2 = time.monotonic()
        assert sorted(names) == sorted(h.name for h in lab.hosts)
    finally:
        t3 = time.monotonic()
        sealer_lab.down(name)
        t4 = time.monotonic()
    print(
        json.dumps(
            {
                "hosts": args.hosts,
                "up_seconds": round(t1 - t0, 2),
                "ssh_all_seconds": round(t2 - t1, 2),
                "down_seconds": round(t4 - t3, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
