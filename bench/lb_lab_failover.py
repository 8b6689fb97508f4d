"""Failed requests through the VIP on a lab cluster while one master fails (sealer-care, nftables).

Builds a lab (3 masters, 1 node, emulated Kubernetes package), installs the cluster with
`sealer apply` (probe interval/timeout/fall/rise from the flags), then for each round and mode
runs a client on the node that makes sequential HTTPS requests to
``https://apiserver.cluster.local:6443/healthz`` (CA verified, a new connection each, 1 s
timeout) and fails master 2 (`block`: nft drop of tcp dport 6443 in the master's own namespace,
removed after it left the node's rules + 6 s; `kill`: SIGKILL of its API server, which the
emulated kubelet restarts). Prints one line per round. The lab is taken down at the end, also
on failure. Needs root. Run from the repository root:

    python bench/lb_lab_failover.py --rounds 3
"""

from __future__ import annotations

import argparse
import secrets
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sealer_lab
from sealer_lab.kube_lab import up_kubernetes_lab
from tests.lb_lab.labcluster import (
    APISERVER,
    VERSION,
    Cluster,
    block_6443,
    masters_of,
    unblock_6443,
    wait_for,
)


def _block_round(cluster: Cluster, node: str, master: str) -> dict[str, Any]:
    masters = masters_of(cluster)
    try:
        with cluster.requests_through_vip(node) as result:
            fault = time.time()
            block_6443(cluster, master)
            _, out_after = wait_for(
                "the master to leave", lambda: master not in cluster.backends(node)
            )
            removed = time.time()
            time.sleep(6)
            unblock_6443(cluster, master)
            _, back = wait_for(
                "the master back", lambda: sorted(cluster.backends(node)) == sorted(masters)
            )
            time.sleep(2)
    finally:
        unblock_6443(cluster, master)
    return {
        "left rules after s": round(out_after, 1),
        "back after s": round(back, 1),
        "requests": result["total"],
        "failed": result["failed"],
        "failed after removal": len([f for f in result["failures"] if f[0] > removed]),
        "last failure s": round(result["failures"][-1][0] - fault, 2) if result["failures"] else 0,
    }


def _kill_round(cluster: Cluster, node: str, master: str) -> dict[str, Any]:
    masters = masters_of(cluster)
    before = cluster.on(master, ["pgrep", "-f", APISERVER]).split()
    seen_out = False

    def track() -> bool:
        nonlocal seen_out
        backends = cluster.backends(node)
        seen_out = seen_out or master not in backends
        return sorted(backends) == sorted(masters)

    with cluster.requests_through_vip(node) as result:
        fault = time.time()
        cluster.on(master, ["kill", "-KILL", before[0]])

        def restarted() -> bool:
            track()
            now = cluster.on(master, ["pgrep", "-f", APISERVER], check=False).split()
            return bool(now) and now != before

        _, restart = wait_for("the apiserver restarted", restarted)
        argv = ["curl", "-sS", "--max-time", "2", "--cacert", "/etc/sealer/ca.crt"]
        argv.append(f"https://{master}:6443/readyz")

        def answers() -> bool:
            track()
            return cluster.on(node, argv, check=False) == "ok"

        _, ready = wait_for("the apiserver ready", answers)
        _, back = wait_for("every master in the rules", track)
        time.sleep(2)
    return {
        "restarted after s": round(restart, 1),
        "ready after s": round(restart + ready, 1),
        "all in the rules after s": round(restart + ready + back, 1),
        "left the rules": seen_out,
        "requests": result["total"],
        "failed": result["failed"],
        "last failure s": round(result["failures"][-1][0] - fault, 2) if result["failures"] else 0,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--mode", choices=("block", "kill", "all"), default="all")
    parser.add_argument("--interval", type=int, default=2)
    parser.add_argument("--timeout", type=int, default=1, help="probe timeout")
    parser.add_argument("--fall", type=int, default=2)
    parser.add_argument("--rise", type=int, default=2)
    args = parser.parse_args()
    name = f"blbf{secrets.token_hex(3)}"
    with tempfile.TemporaryDirectory() as tmp:
        try:
            lab = up_kubernetes_lab(name, 3, 1, version=VERSION, clusterfile=Path(tmp) / "c.yaml")
            cluster = Cluster(lab)
            settings = {"backend": "nftables", "interval": args.interval}
            settings |= {"timeout": args.timeout, "fall": args.fall, "rise": args.rise}
            cluster.edit(loadBalancer=settings)
            start = time.monotonic()
            cluster.apply()
            print(
                f"lab {name}: sealer apply (3 masters, 1 node) {time.monotonic() - start:.0f} s",
                flush=True,
            )
            print(f"load balancer: {settings}")
            node, master = cluster.node, lab.masters[1].address
            modes = ("block", "kill") if args.mode == "all" else (args.mode,)
            for mode in modes:
                for round_ in range(1, args.rounds + 1):
                    run = _block_round if mode == "block" else _kill_round
                    print(f"{mode} #{round_}: {run(cluster, node, master)}", flush=True)
        finally:
            sealer_lab.down(name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
