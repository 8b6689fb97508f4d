"""How long a rolling upgrade takes, and how many /readyz requests through the VIP failed.

Builds a lab (``--masters`` masters, ``--nodes`` nodes, emulated Kubernetes at v1.29.3),
applies the Clusterfile, then upgrades it to v1.30.2 with ``spec.upgrade.maxUnavailable`` set
to one ``--max-unavailable`` value; each value gets a lab of its own. A client on the first
node polls ``https://VIP:6443/readyz`` twice a second during the upgrade (the poller of
tests/e2e/test_upgrade_lab.py). Prints per value the upgrade's wall time and the ok/failed
request counts. Needs root. Run from the repository root:

    python bench/upgrade.py --masters 3 --nodes 2 --max-unavailable 1
    python bench/upgrade.py --masters 3 --nodes 10 --max-unavailable 1 30%
"""

from __future__ import annotations

import argparse
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ruamel.yaml import YAML

import sealer_lab
from sealer_lab.kube_lab import up_kubernetes_lab
from tests.e2e.test_upgrade_lab import FIRST, POLLER, SECOND, Cluster


def one(masters: int, nodes: int, max_unavailable: str) -> str:
    name = f"bupg{secrets.token_hex(2)}"
    workdir = Path(f"/tmp/{name}")
    workdir.mkdir()
    try:
        lab = up_kubernetes_lab(name, masters, nodes, version=FIRST, clusterfile=workdir / "l.yaml")
        cluster = Cluster(lab, workdir)
        created = cluster.sealer("apply", "--yes", "--quiet")
        if created.returncode != 0:
            return f"apply failed: {created.stdout}{created.stderr}"
        cluster.want(SECOND)
        yaml = YAML()
        data = yaml.load(cluster.file.read_text())
        value: int | str = int(max_unavailable) if max_unavailable.isdigit() else max_unavailable
        data["spec"]["upgrade"] = {"maxUnavailable": value}
        with cluster.file.open("w") as handle:
            yaml.dump(data, handle)
        counts = "/var/log/readyz-counts"  # on the node: its /tmp is its own
        vip = data["spec"].get("vip", "10.103.97.2")
        poller = subprocess.Popen(
            lab.exec_argv(lab.nodes[0], [sys.executable, "-c", POLLER, vip, counts])
        )
        started = time.monotonic()
        try:
            upgraded = cluster.sealer("apply", "--yes", "--quiet")
        finally:
            wall = time.monotonic() - started
            poller.send_signal(signal.SIGTERM)
            poller.wait(30)
        if upgraded.returncode != 0:
            return f"upgrade failed: {upgraded.stdout}{upgraded.stderr}"
        ok, failed = lab.run(lab.nodes[0], ["cat", counts]).stdout.split()
        return f"{wall:.0f} s, /readyz {ok} ok, {failed} failed"
    finally:
        sealer_lab.down(name)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--masters", type=int, default=3)
    parser.add_argument("--nodes", type=int, default=2)
    parser.add_argument("--max-unavailable", nargs="+", default=["1"])
    args = parser.parse_args()
    for value in args.max_unavailable:
        result = one(args.masters, args.nodes, value)
        print(f"{args.masters}+{args.nodes}, maxUnavailable {value}: {result}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
