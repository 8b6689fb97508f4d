"""A lab cluster made by `sealer apply` and the probes the load-balancer lab tests and bench use.

Shared by tests/lb_lab/test_lb_lab.py and bench/lb_lab_failover.py: the sealer CLI on the lab's
Clusterfile, the node's nftables backends and care.json, a client making HTTPS requests through
the VIP from a node, and a 6443 block inside one master's namespace (never the machine's).
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from ruamel.yaml import YAML

import sealer_lab
from sealer.layout import CARE_CONFIG_PATH
from sealer.lb.facts import NFT_LIST_ARGV, parse_nft_ruleset
from tests import waiting
from tests.sealer_cli import run_sealer

VERSION = "v1.29.3"
VIP = "10.103.97.2"
DOMAIN = "apiserver.cluster.local"
CA = "/etc/sealer/ca.crt"
LB = {"backend": "nftables", "interval": 2, "timeout": 1, "fall": 2, "rise": 2}
CLIENT = Path(__file__).with_name("vip_client.py").read_text()
BLOCK_TABLE = "lbtest_block"
APISERVER = "sealer_lab.emulate.apiserver"
T = TypeVar("T")
UNHEALTHY = "etcdserver: unhealthy cluster"


def figure(name: str, value: object) -> None:
    print(f"FIGURE {name}: {value}", file=sys.stderr)


def wait_for(what: str, probe: Callable[[], T | None], deadline: float = 90) -> tuple[T, float]:
    """Poll ``probe`` until it returns something other than None/False; (value, seconds)."""
    start = time.monotonic()
    value = waiting.wait_for(what, probe, timeout=deadline, interval=0.2)
    return value, time.monotonic() - start


class Cluster:
    """The lab, its Clusterfile and the sealer CLI."""

    def __init__(self, lab: sealer_lab.Lab) -> None:
        self.lab = lab
        assert lab.clusterfile is not None
        self.file = lab.clusterfile

    @property
    def node(self) -> str:
        return self.lab.nodes[0].address

    def sealer(self, verb: str, *extra: str) -> subprocess.CompletedProcess[str]:
        return run_sealer(
            verb, "-f", str(self.file), "--known-hosts", str(self.lab.known_hosts), *extra
        )

    def apply(self, log: Path | None = None) -> None:
        """`sealer apply`; with ``log``, the run log (JSON lines) is written there."""
        extra = () if log is None else ("--log", str(log))
        result = self.sealer("apply", "--yes", "--quiet", *extra)
        if result.returncode != 0 and UNHEALTHY in result.stderr:
            # The emulated kubeadm adds an etcd member once; the real one retries with a
            # back-off. etcd refuses a member add while the member added before it has been
            # connected for less than 5 s. Re-running apply (what an operator does) converges.
            figure("apply: retried after the emulated kubeadm's etcd member add", UNHEALTHY)
            result = self.sealer("apply", "--yes", "--quiet", *extra)
        assert result.returncode == 0, result.stdout + result.stderr

    def on(self, host: str, argv: list[str], check: bool = True) -> str:
        return self.lab.run(host, argv, check=check).stdout

    def edit(self, **spec: Any) -> None:
        yaml = YAML()
        data = yaml.load(self.file.read_text())
        for key, value in spec.items():
            data["spec"][key] = value
        with self.file.open("w") as handle:
            yaml.dump(data, handle)

    def masters_in_file(self) -> list[str]:
        return [str(m) for m in YAML().load(self.file.read_text())["spec"]["masters"]]

    def backends(self, node: str) -> list[str]:
        """Masters in the node's nftables map now ([] when the table is missing)."""
        result = self.lab.run(node, list(NFT_LIST_ARGV), check=False)
        if result.returncode != 0:
            assert "No such file or directory" in result.stderr, result.stderr
            return []
        return parse_nft_ruleset(result.stdout)

    def care_masters(self, node: str) -> list[str]:
        masters: list[str] = json.loads(self.on(node, ["cat", CARE_CONFIG_PATH]))["masters"]
        return masters

    def unit(self, host: str, unit: str, prop: str) -> str:
        argv = ["systemctl", "show", "-p", prop, "--value", unit]
        return self.on(host, argv).strip()

    def start_ticks(self, host: str, pid: str) -> int:
        """Start time of a process of the host, in clock ticks since the machine booted."""
        stat = self.on(host, ["cat", f"/proc/{pid}/stat"])
        return int(stat.rsplit(")", 1)[1].split()[19])

    @contextlib.contextmanager
    def requests_through_vip(self, node: str) -> Iterator[dict[str, Any]]:
        """Sequential HTTPS requests from ``node`` to the API name while the block runs."""
        argv = ["/usr/bin/python3", "-c", CLIENT, DOMAIN, "6443", CA, "1"]
        proc = subprocess.Popen(
            self.lab.exec_argv(node, argv),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        result: dict[str, Any] = {}
        try:
            time.sleep(2)  # a baseline of good requests before the failure
            yield result
        finally:
            out, err = proc.communicate(input="", timeout=60)
            assert proc.returncode == 0, err
            result.update(json.loads(out))


def block_6443(cluster: Cluster, master: str) -> None:
    for argv in (
        ["nft", "add", "table", "inet", BLOCK_TABLE],
        ["nft", "add", "chain", "inet", BLOCK_TABLE, "input",
         "{ type filter hook input priority -10 ; policy accept ; }"],
        ["nft", "add", "rule", "inet", BLOCK_TABLE, "input", "tcp", "dport", "6443", "drop"],
    ):  # fmt: skip
        cluster.on(master, argv)


def unblock_6443(cluster: Cluster, master: str) -> None:
    cluster.on(master, ["nft", "delete", "table", "inet", BLOCK_TABLE], check=False)


def report_requests(label: str, result: dict[str, Any], since: float) -> None:
    figure(f"{label}: requests through the VIP", result["total"])
    figure(f"{label}: failed", result["failed"])
    if result["failures"]:
        first, last = result["failures"][0][0], result["failures"][-1][0]
        figure(f"{label}: failures from/to (s after the fault)",
               f"{first - since:.2f} / {last - since:.2f}")  # fmt: skip
        kinds = sorted({f[1].split(":")[0] for f in result["failures"]})
        figure(f"{label}: failure kinds", kinds)


def masters_of(cluster: Cluster) -> list[str]:
    return [h.address for h in cluster.lab.masters]
