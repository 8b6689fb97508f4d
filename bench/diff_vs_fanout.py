"""Time `sealer diff` on an N-host lab against a bare asyncssh fan-out of one command.

    python3 bench/diff_vs_fanout.py [--hosts 50] [--runs 3] [--keep]

Both run in the same process, against the same hosts, in the same run: the fan-out opens one
connection per host and runs ``hostname`` (the floor: sshd's own per-connection cost on this
machine); `sealer diff` opens one connection per host, reads every fact of every host and
plans. Prints the median of each and the ratio. Needs root (it builds a lab).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import time
from pathlib import Path

import asyncssh

import sealer_lab
from sealer.connect import Connections, PoolOptions
from sealer.reconcile import plan
from sealer.spec import load_clusterfile
from sealer_lab.kube_lab import up_kubernetes_lab


async def fanout(lab: sealer_lab.Lab) -> float:
    key = asyncssh.read_private_key(str(lab.key_path))
    known = str(lab.known_hosts)
    started = time.perf_counter()

    async def one(address: str) -> str:
        async with asyncssh.connect(
            address, username="root", client_keys=[key], known_hosts=known
        ) as conn:
            result = await conn.run("hostname", check=True)
            return str(result.stdout)

    names = await asyncio.gather(*(one(h.address) for h in lab.hosts))
    assert len(set(names)) == len(lab.hosts)
    return time.perf_counter() - started


async def diff(lab: sealer_lab.Lab, clusterfile: Path) -> float:
    cluster = load_clusterfile(clusterfile).cluster
    options = PoolOptions(known_hosts=(lab.known_hosts,))
    started = time.perf_counter()
    async with Connections(options) as conns:
        planned = await plan(conns, cluster)
    elapsed = time.perf_counter() - started
    assert len(planned.observation.state.hosts) == len(lab.hosts)
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=50)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--name", default="bench-diff")
    parser.add_argument("--keep", action="store_true", help="leave the lab up afterwards")
    args = parser.parse_args()
    masters = 3
    started = time.perf_counter()
    lab = up_kubernetes_lab(
        args.name, masters, args.hosts - masters, clusterfile=Path(f"/tmp/{args.name}.yaml")
    )
    print(f"lab of {len(lab.hosts)} hosts up in {time.perf_counter() - started:.1f}s")
    assert lab.clusterfile is not None
    try:
        fan: list[float] = []
        dif: list[float] = []
        for _ in range(args.runs):
            fan.append(asyncio.run(fanout(lab)))
            dif.append(asyncio.run(diff(lab, lab.clusterfile)))
        cli_started = time.perf_counter()
        cli = subprocess.run(
            [sys.executable, "-m", "sealer", "diff", "-f", str(lab.clusterfile),
             "--known-hosts", str(lab.known_hosts)],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        cli_elapsed = time.perf_counter() - cli_started
        f, d = statistics.median(fan), statistics.median(dif)
        print(f"hosts: {len(lab.hosts)}  runs: {args.runs}")
        print(
            f"bare asyncssh fan-out (hostname): median {f:.2f}s  all {[round(x, 2) for x in fan]}"
        )
        print(
            f"sealer diff (in process):         median {d:.2f}s  all {[round(x, 2) for x in dif]}"
        )
        print(f"sealer diff (CLI, exit {cli.returncode}):          {cli_elapsed:.2f}s")
        print(f"ratio diff / fan-out: {d / f:.2f}")
    finally:
        if not args.keep:
            sealer_lab.down(args.name)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
