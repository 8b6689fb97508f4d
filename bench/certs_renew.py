"""How long ``sealer certs renew`` takes per master, and how many masters are down at once.

Builds a lab (three masters, one node, emulated Kubernetes), applies the Clusterfile, then runs
``sealer certs renew --yes`` ``--runs`` times while a thread samples ``/readyz`` of every master
(every 0.2 s, server verified against the cluster CA). Prints, per run, the seconds per master
(whole renewal and down time, as sealer measured them), the renew wall time, and the largest
number of masters seen down in one sample. Needs root. Run from the repository root:

    python bench/certs_renew.py --runs 3
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sealer_lab
from sealer_lab.kube_lab import up_kubernetes_lab
from tests.certs.test_certs_lab import Cluster, ReadyzPoller


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--masters", type=int, default=3)
    args = parser.parse_args()
    name = f"bcerts{secrets.token_hex(2)}"
    workdir = Path(f"/tmp/{name}")
    workdir.mkdir()
    try:
        lab = up_kubernetes_lab(name, args.masters, 1, clusterfile=workdir / "lab.yaml")
        assert lab.clusterfile is not None
        cluster = Cluster(lab, lab.clusterfile)
        started = time.monotonic()
        # two masters first, then the rest: the emulated kubeadm join of a third etcd member
        # right after the second sometimes fails and apply then takes it for joined
        cluster.write([h.address for h in lab.masters[:2]])
        cluster.apply()
        cluster.write([h.address for h in lab.masters])
        cluster.apply()
        print(f"apply: {time.monotonic() - started:.1f}s")
        masters = cluster.masters()
        ca_pem = cluster.pem(masters[0], "/etc/kubernetes/pki/ca.crt")
        for run in range(1, args.runs + 1):
            started = time.monotonic()
            with ReadyzPoller(masters, ca_pem) as poller:
                result = cluster.run("certs", "renew", "--yes", "--output", "json")
            wall = time.monotonic() - started
            if result.returncode != 0:
                print(result.stdout + result.stderr)
                return 1
            report = json.loads(result.stdout)
            per = ", ".join(
                f"{m['address']} {m['seconds']:.1f}s (down {m['down_seconds']:.1f}s)"
                for m in report["masters"]
            )
            most = max(len(s) for s in poller.samples)
            print(
                f"run {run}: {wall:.1f}s wall; {per}; samples {len(poller.samples)}, "
                f"max masters down at once {most}"
            )
    finally:
        sealer_lab.down(name)
        for path in workdir.iterdir():
            path.unlink()
        workdir.rmdir()
    return 0


if __name__ == "__main__":
    sys.exit(main())
