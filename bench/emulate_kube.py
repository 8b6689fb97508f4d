"""How long the emulated package takes on lab hosts (one run, wall clock, over real SSH).

Usage: python bench/emulate_kube.py [--version v1.29.3]   (root)
Makes a lab of 2 masters and 1 node, then times: package build, install (tar + init.sh) on one
host, `kubeadm init`, a control-plane join, a worker join, the three nodes Ready, `kubeadm
reset -f` on each. Prints one JSON line. Not a test: figures go to the report and
docs/lab-emulation.md. The lab is taken down at the end, also on failure.
"""

from __future__ import annotations

import argparse
import json
import re
import secrets
import subprocess
import tempfile
import time
from pathlib import Path

import sealer_lab
from sealer_lab.package import build_package, install_sbin


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--version", default="v1.29.3")
    args = parser.parse_args()
    name = f"bench{secrets.token_hex(2)}"
    figures: dict[str, float] = {}
    try:
        lab = sealer_lab.up(name, masters=2, nodes=1)
        install_sbin(lab.sbin_dir)
        m1, m2, n1 = lab.masters[0], lab.masters[1], lab.nodes[0]

        def ssh(host: str, argv: list[str], data: bytes | None = None) -> str:
            out = subprocess.run(
                lab.ssh_argv(host, argv), input=data, capture_output=True, check=True, timeout=600
            )
            return out.stdout.decode()

        def timed(key: str, fn: object) -> object:
            t0 = time.monotonic()
            result = fn()  # type: ignore[operator]
            figures[key] = round(time.monotonic() - t0, 2)
            return result

        with tempfile.TemporaryDirectory() as tmp:
            package = timed("build_s", lambda: build_package(args.version, Path(tmp)))
            assert isinstance(package, Path)
            data = package.read_bytes()
            figures["package_mb"] = round(len(data) / 1e6, 1)
            for i, h in enumerate((m1, m2, n1)):

                def install(h: sealer_lab.HostState = h) -> None:
                    ssh(h.name, ["tar", "xzf", "-", "-C", "/root"], data)
                    ssh(h.name, ["bash", "/root/kube/shell/init.sh"])
                    ssh(
                        h.name,
                        ["tee", "-a", "/etc/hosts"],
                        f"{m1.address} apiserver.cluster.local\n".encode(),
                    )

                if i == 0:
                    timed("install_s", install)
                else:
                    install()
        config = (
            "apiVersion: kubeadm.k8s.io/v1beta3\nkind: InitConfiguration\nlocalAPIEndpoint:\n"
            f"  advertiseAddress: {m1.address}\n---\napiVersion: kubeadm.k8s.io/v1beta3\n"
            f"kind: ClusterConfiguration\nkubernetesVersion: {args.version}\n"
            "controlPlaneEndpoint: apiserver.cluster.local:6443\n"
        )
        ssh(m1.name, ["tee", "/root/kubeadm.yaml"], config.encode())
        init = timed(
            "init_s",
            lambda: ssh(
                m1.name, ["kubeadm", "init", "--config", "/root/kubeadm.yaml", "--upload-certs"]
            ),
        )
        key = re.search(r"--certificate-key ([0-9a-f]{64})", str(init))
        assert key is not None
        join = ssh(m1.name, ["kubeadm", "token", "create", "--print-join-command"]).split()
        timed(
            "join_control_plane_s",
            lambda: ssh(
                m2.name,
                [
                    *join,
                    "--control-plane",
                    "--certificate-key",
                    key.group(1),
                    "--apiserver-advertise-address",
                    m2.address,
                ],
            ),
        )
        timed("join_worker_s", lambda: ssh(n1.name, join))

        def all_ready() -> None:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                out = ssh(
                    m1.name,
                    [
                        "kubectl",
                        "--kubeconfig",
                        "/etc/kubernetes/admin.conf",
                        "get",
                        "nodes",
                        "--no-headers",
                    ],
                )
                if len(out.splitlines()) == 3 and all(
                    " Ready " in line for line in out.splitlines()
                ):
                    return
                time.sleep(0.5)
            raise TimeoutError("nodes not Ready")

        timed("all_ready_after_joins_s", all_ready)
        for label, h in (("reset_worker_s", n1), ("reset_master2_s", m2), ("reset_master1_s", m1)):
            timed(label, lambda h=h: ssh(h.name, ["kubeadm", "reset", "-f"]))
    finally:
        sealer_lab.down(name)
    print(json.dumps({"version": args.version, **figures}))


if __name__ == "__main__":
    main()
