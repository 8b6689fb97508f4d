"""How long ``sealer backup`` and ``sealer restore`` take on the lab.

Builds a lab (three masters, one node, emulated Kubernetes), applies the Clusterfile, then
``--runs`` times: ``sealer backup`` (plain, then encrypted), every master's etcd data wiped as
in tests/dr/test_dr_lab.py, and ``sealer restore --yes`` until every Node is Ready again.
Prints the seconds of each (the restore as sealer measured it, and the wall time of the
command), the archive's size and the etcd revision. Needs root. From the repository root:

    python bench/dr_lab.py --runs 2
"""

from __future__ import annotations

import argparse
import json
import secrets
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sealer_lab
from sealer_lab.kube_lab import up_kubernetes_lab
from tests.dr.test_dr_lab import MANIFESTS, PASSPHRASE_VAR, Cluster, _etcd_down
from tests.waiting import wait_for


def _wipe(cluster: Cluster) -> None:
    for host in cluster.masters:
        cluster.on(host, ["mkdir", "-p", "/root/stopped"])
        for pod in MANIFESTS:
            cluster.on(host, ["mv", f"/etc/kubernetes/manifests/{pod}.yaml", "/root/stopped/"])
    for host in cluster.masters:
        wait_for(f"{host} stopped", lambda h=host: _etcd_down(cluster, h), timeout=120)
        cluster.on(host, ["rm", "-rf", "/var/lib/etcd/member"])
        for pod in MANIFESTS:
            cluster.on(host, ["mv", f"/root/stopped/{pod}.yaml", "/etc/kubernetes/manifests/"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    name = f"bdr{secrets.token_hex(2)}"
    workdir = Path(f"/tmp/{name}")
    workdir.mkdir()
    try:
        lab = up_kubernetes_lab(name, 3, 1, clusterfile=workdir / "lab.yaml")
        assert lab.clusterfile is not None
        cluster = Cluster(lab, lab.clusterfile)
        started = time.monotonic()
        for _ in range(3):
            applied = cluster.sealer("apply", "--yes", "--quiet").returncode == 0
            if applied and cluster.sealer("diff").returncode == 0:
                break
        print(f"apply: {time.monotonic() - started:.1f}s")
        for run in range(1, args.runs + 1):
            timings = {}
            for label, extra, env in (
                ("backup", (), {}),
                ("backup (encrypted)", ("--passphrase-env", PASSPHRASE_VAR),
                 {PASSPHRASE_VAR: "bench passphrase"}),
            ):  # fmt: skip
                started = time.monotonic()
                result = cluster.sealer(
                    "backup", "-o", str(cluster.backups), "--output", "json", *extra, env=env
                )
                timings[label] = time.monotonic() - started
                if result.returncode != 0:
                    print(result.stdout + result.stderr)
                    return 1
                report = json.loads(result.stdout)
                if label == "backup":
                    archive = Path(report["path"])
            _wipe(cluster)
            started = time.monotonic()
            result = cluster.sealer("restore", "--from", str(archive), "--yes", "--output", "json")
            wall = time.monotonic() - started
            if result.returncode != 0:
                print(result.stdout + result.stderr)
                return 1
            restored = json.loads(result.stdout)
            print(
                f"run {run}: backup {timings['backup']:.1f}s, encrypted "
                f"{timings['backup (encrypted)']:.1f}s ({report['size']} bytes, revision "
                f"{report['etcd']['revision']}); restore {wall:.1f}s wall, "
                f"{restored['seconds']:.1f}s from stop to every Node Ready"
            )
    finally:
        sealer_lab.down(name)
        shutil.rmtree(workdir)  # the archives hold the lab's CA keys
    return 0


if __name__ == "__main__":
    sys.exit(main())
