"""Distribution of the package with the workstation's uplink as the bottleneck: relay vs direct.

    python3 bench/distribute_relay.py [--hosts 2,10,50] [--rate 100mbit] [--runs 1] [--keep]

One lab of max(--hosts) sshd hosts with the emulated package (``sealer lab up``). For each
size 1+N (the first hosts of the lab) and each distribution (direct, relay), the script
removes the package from those hosts, plans, and runs exactly the plan's distribute steps (copy,
verify, unpack, init.sh, as apply runs them) twice: with the lab bridge's egress shaped by
``tc tbf`` to --rate (the workstation's uplink: host-to-host traffic is forwarded by the
bridge and not shaped) and without. The extra time the shaping causes is the uplink's share;
the script prints it per run, and its ratio to that of direct at 1+1 and to one copy's
theoretical time (package size / rate). Needs root; run from the repository root with
``PYTHONPATH=$PWD``. Records the load average: other jobs on the machine slow everything.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import time
from pathlib import Path

from ruamel.yaml import YAML

import sealer_lab
from sealer.connect import Connections, PoolOptions
from sealer.engine import Executor, Graph, RunContext
from sealer.layout import PACKAGE_DIR
from sealer.plan.kinds import StepKind
from sealer.reconcile import plan, target_for
from sealer.spec import load_clusterfile
from sealer.steps.graph import executable
from sealer_lab.hosts import SESSION_ENV
from sealer_lab.kube_lab import up_kubernetes_lab


def clusterfile(lab: sealer_lab.Lab, size: int, distribution: str, path: Path) -> Path:
    assert lab.clusterfile is not None
    yaml = YAML()
    data = yaml.load(lab.clusterfile.read_text())
    hosts = [h.address for h in lab.hosts][:size]
    data["spec"]["masters"] = hosts[:1]
    data["spec"]["nodes"] = hosts[1:]
    data["spec"]["package"] = {
        "source": data["spec"]["package"]["source"],
        "distribution": distribution,
    }
    with path.open("w") as handle:
        yaml.dump(data, handle)
    return path


def forget_package(lab: sealer_lab.Lab, size: int) -> None:
    procs = [
        subprocess.Popen(lab.exec_argv(h, ["rm", "-rf", PACKAGE_DIR]), env=SESSION_ENV)
        for h in lab.hosts[:size]
    ]  # fmt: skip
    for proc in procs:
        proc.wait()


async def distribute(lab: sealer_lab.Lab, path: Path) -> tuple[float, list[str]]:
    cluster = load_clusterfile(path).cluster
    options = PoolOptions(known_hosts=(lab.known_hosts,))
    async with Connections(options) as conns:
        planned = await plan(conns, cluster)
        target = target_for(conns, planned, None)
        graph = Graph()
        for step in planned.plan.steps:
            if step.kind is StepKind.DISTRIBUTE:
                graph.add(executable(step, target), after=step.after)
        started = time.perf_counter()
        summary = await Executor(graph, RunContext()).run()
        elapsed = time.perf_counter() - started
    if not summary.succeeded:
        raise SystemExit(f"distribute failed: {summary.errors()}")
    return elapsed, [r.reason for r in summary.results]


def shape(bridge: str, rate: str | None) -> None:
    if rate is None:
        subprocess.run(
            ["tc", "qdisc", "del", "dev", bridge, "root"], check=False, capture_output=True
        )
    else:
        subprocess.run(
            ["tc", "qdisc", "replace", "dev", bridge, "root", "tbf", "rate", rate,
             "burst", "256kb", "latency", "400ms"],
            check=True,
        )  # fmt: skip


def rate_bytes(rate: str) -> float:
    units = {"kbit": 1e3 / 8, "mbit": 1e6 / 8, "gbit": 1e9 / 8}
    for unit, factor in units.items():
        if rate.endswith(unit):
            return float(rate[: -len(unit)]) * factor
    raise SystemExit(f"--rate {rate}: use kbit, mbit or gbit")


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--hosts", default="2,10,50", help="sizes 1+N, comma separated")
    parser.add_argument("--rate", default="100mbit", help="the shaped uplink (tc units)")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--name", default="bench-relay")
    parser.add_argument("--keep", action="store_true", help="leave the lab up afterwards")
    args = parser.parse_args()
    sizes = [int(x) for x in args.hosts.split(",")]
    started = time.perf_counter()
    lab = up_kubernetes_lab(
        args.name, 1, max(sizes) - 1, clusterfile=Path(f"/tmp/{args.name}.yaml")
    )
    print(f"lab of {len(lab.hosts)} hosts up in {time.perf_counter() - started:.1f}s")
    assert lab.clusterfile is not None
    package = Path(load_clusterfile(lab.clusterfile).cluster.spec.package.source)
    one_copy = package.stat().st_size / rate_bytes(args.rate)
    print(
        f"package {package.stat().st_size / 1e6:.1f} MB; one copy at {args.rate}: {one_copy:.2f}s"
    )
    extra: dict[tuple[int, str], float] = {}
    try:
        for size in sizes:
            for distribution in ("direct", "relay"):
                path = clusterfile(lab, size, distribution, Path(f"/tmp/{args.name}-{size}.yaml"))
                shaped: list[float] = []
                bare: list[float] = []
                for _ in range(args.runs):
                    for rate, into in ((args.rate, shaped), (None, bare)):
                        forget_package(lab, size)
                        shape(lab.state.bridge, rate)
                        load = os.getloadavg()[0]
                        elapsed, reasons = asyncio.run(distribute(lab, path))
                        into.append(elapsed)
                        relayed = sum("(relay)" in r for r in reasons)
                        print(
                            f"1+{size - 1:<3} {distribution:<6} shaped={rate or 'no':<8} "
                            f"{elapsed:6.2f}s  relayed copies {relayed}/{len(reasons)}  "
                            f"load {load:.1f}"
                        )
                extra[size, distribution] = statistics.median(shaped) - statistics.median(bare)
    finally:
        shape(lab.state.bridge, None)
        if not args.keep:
            sealer_lab.down(args.name)
    base = extra.get((sizes[0], "direct"))
    print(f"\nextra time caused by shaping (shaped - unshaped, medians); one copy {one_copy:.2f}s")
    for (size, distribution), value in extra.items():
        ratio = f"  {value / base:.2f}x direct 1+{sizes[0] - 1}" if base else ""
        copies = value / one_copy
        print(f"1+{size - 1:<3} {distribution:<6} {value:6.2f}s  {copies:5.2f} copies{ratio}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
