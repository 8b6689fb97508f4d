"""`sealer diff` at 50, 100 and 200 hosts against the same commands sent by bare asyncssh.

    python3 bench/diff_scale.py [--sizes 50,100,200] [--runs 3] [--keep]

One lab of max(--sizes) sshd hosts with the emulated package (``sealer lab up``: no cluster,
so diff reads every host's facts and plans an install). For each size N (the first N hosts, 3
masters and N-3 nodes) and each run, in turn:

* the floor: bare asyncssh, one connection per host, sending exactly the commands that
  sealer's diff sent to that host (recorded in the same run), one after the other per host,
  every host at once (what sealer's own code adds is what is left over);
* ``sealer diff`` as a user runs it (a new process): wall time and peak RSS (``wait4``);
* ``sealer diff`` in this process with a recorder: the commands, and the connections opened.

Prints medians and ratios, the load average of each run. Needs root; run from the repository
root with ``PYTHONPATH=$PWD``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import asyncssh
from ruamel.yaml import YAML

import sealer_lab
from sealer.connect import Connections, MemoryRecorder, PoolOptions
from sealer.reconcile import plan
from sealer.spec import load_clusterfile
from sealer_lab.kube_lab import up_kubernetes_lab


def clusterfile(lab: sealer_lab.Lab, size: int, path: Path) -> Path:
    assert lab.clusterfile is not None
    yaml = YAML()
    data = yaml.load(lab.clusterfile.read_text())
    hosts = [h.address for h in lab.hosts][:size]
    data["spec"]["masters"] = hosts[:3]
    data["spec"]["nodes"] = hosts[3:]
    with path.open("w") as handle:
        yaml.dump(data, handle)
    return path


async def recorded_diff(
    lab: sealer_lab.Lab, path: Path, timeout: float
) -> tuple[dict[str, list[str]], int]:
    """The commands sealer's diff sends to each host, and the connections it opened."""
    recorder = MemoryRecorder()
    options = PoolOptions(known_hosts=(lab.known_hosts,))
    async with Connections(options, recorder=recorder) as conns:
        await plan(conns, load_clusterfile(path).cluster, connect_timeout=timeout)
        opened = conns.opened
    commands: dict[str, list[str]] = defaultdict(list)
    for record in recorder.records:
        if record.kind == "run":
            commands[record.host].append(record.command)
    return dict(commands), opened


async def floor(lab: sealer_lab.Lab, commands: dict[str, list[str]], timeout: float) -> float:
    key = asyncssh.read_private_key(str(lab.key_path))
    known = str(lab.known_hosts)
    started = time.perf_counter()

    async def one(address: str) -> None:
        async with asyncssh.connect(
            address, username="root", client_keys=[key], known_hosts=known,
            connect_timeout=timeout,
        ) as conn:  # fmt: skip
            for command in commands[address]:
                await conn.run(command, check=False)

    await asyncio.gather(*(one(h) for h in commands))
    return time.perf_counter() - started


def cli_diff(lab: sealer_lab.Lab, path: Path, timeout: float) -> tuple[float, float, int]:
    """Wall seconds, peak RSS in MB and exit status of `sealer diff` as a new process."""
    argv = [sys.executable, "-m", "sealer", "diff", "-f", str(path),
            "--known-hosts", str(lab.known_hosts), "--connect-timeout", str(timeout)]  # fmt: skip
    started = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode not in (0, 2):
        assert proc.stderr is not None
        raise SystemExit(f"sealer diff failed: {proc.stderr.read().decode()}")
    return elapsed, usage.ru_maxrss / 1024, proc.returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", default="50,100,200")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--name", default="bench-scale")
    parser.add_argument("--keep", action="store_true", help="leave the lab up afterwards")
    parser.add_argument(
        "--connect-timeout", type=float, default=10.0, help="per host, for all three (seconds)"
    )
    args = parser.parse_args()
    sizes = [int(x) for x in args.sizes.split(",")]
    started = time.perf_counter()
    lab = up_kubernetes_lab(
        args.name, 3, max(sizes) - 3, clusterfile=Path(f"/tmp/{args.name}.yaml")
    )
    print(f"lab of {len(lab.hosts)} hosts up in {time.perf_counter() - started:.1f}s")
    rows = []
    try:
        for size in sizes:
            path = clusterfile(lab, size, Path(f"/tmp/{args.name}-{size}.yaml"))
            floors: list[float] = []
            diffs: list[float] = []
            rss: list[float] = []
            opened = 0
            commands: dict[str, list[str]] = {}
            for run in range(args.runs):
                commands, opened = asyncio.run(recorded_diff(lab, path, args.connect_timeout))
                load = os.getloadavg()[0]
                floors.append(asyncio.run(floor(lab, commands, args.connect_timeout)))
                elapsed, peak, code = cli_diff(lab, path, args.connect_timeout)
                diffs.append(elapsed)
                rss.append(peak)
                print(
                    f"{size} hosts run {run + 1}: floor {floors[-1]:.2f}s  sealer diff "
                    f"{elapsed:.2f}s (exit {code}, peak RSS {peak:.0f} MB)  load {load:.1f}"
                )
            per_host = statistics.median(len(c) for c in commands.values())
            f, d = statistics.median(floors), statistics.median(diffs)
            rows.append((size, f, d, max(rss), opened, per_host))
    finally:
        if not args.keep:
            sealer_lab.down(args.name)
    print("\nhosts  floor    sealer diff  ratio  peak RSS  connections  commands/host")
    for size, f, d, peak, opened, per_host in rows:
        print(
            f"{size:>5}  {f:6.2f}s  {d:8.2f}s  {d / f:6.2f}x  {peak:5.0f} MB  "
            f"{opened:>5} / {size:<5} {per_host:>6.0f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
