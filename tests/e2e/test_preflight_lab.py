"""Preflight and prepare end to end on a fresh 1+2 lab: every host problem in one report
before anything changes; prepare fixes only what was found wrong; clean undoes it.

The tests run in order on one lab and build on each other, as an operator would: find the
problems, fix them, apply.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from ruamel.yaml import YAML

import sealer_lab
from tests.conftest import kubernetes_lab
from tests.sealer_cli import run_sealer as sealer
from tests.waiting import wait_for

pytestmark = [pytest.mark.lab, pytest.mark.slow]

VERSION = "v1.29.3"
SWAP_LINE = "/swapfile none swap sw 0 0"
#: A host kernel as a test sets it (sealer_lab/emulate/kernel.py, docs/lab-emulation.md).
KERNEL = {
    "unloaded": ["br_netfilter"],
    "sysctl": {"net.ipv4.ip_forward": "0"},
    "swap": ["/swapfile"],
}
#: Every file an apply could write on a host (its digest), to show that nothing changed.
SNAPSHOT = (
    "find /etc /usr/local/bin /var/lib/sealer /var/lib/kubelet /var/lib/etcd /root "
    "/run/sealer-lab -xdev -type f -print0 2>/dev/null | sort -z | xargs -0 -r sha256sum"
)


class Lab:
    def __init__(self, lab: sealer_lab.Lab) -> None:
        self.lab = lab
        assert lab.clusterfile is not None
        self.file = lab.clusterfile
        self.master0 = lab.masters[0]
        self.node1, self.node2 = lab.nodes

    def sealer(self, verb: str, *extra: str) -> subprocess.CompletedProcess[str]:
        return sealer(
            verb, "-f", str(self.file), "--known-hosts", str(self.lab.known_hosts), *extra
        )

    def on(self, host: sealer_lab.HostState, argv: list[str], check: bool = True) -> str:
        return self.lab.run(host, argv, check=check).stdout

    def snapshot(self) -> dict[str, str]:
        return {h.name: self.on(h, ["sh", "-c", SNAPSHOT], check=False) for h in self.lab.hosts}

    def listening(self, host: sealer_lab.HostState, port: int) -> bool:
        return f":{port} " in self.on(host, ["ss", "-Htln"])


@pytest.fixture(scope="module")
def lab(lab_session_id: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    workdir = tmp_path_factory.mktemp("preflight")
    with kubernetes_lab(lab_session_id, "pf", workdir, 1, 2, version=VERSION) as made:
        yield Lab(made)


def test_a_busy_port_and_a_duplicate_hostname_stop_diff_and_apply_before_any_change(
    lab: Lab,
) -> None:
    m0, n1, n2 = lab.master0, lab.node1, lab.node2
    # node-1 boots with swap on, br_netfilter missing and ip_forward 0 (a warning each: the
    # prepare step fixes them, so they do not stop apply)
    lab.on(n1, ["mkdir", "-p", "/etc/sealer-lab"])
    lab.on(n1, ["sh", "-c", f"printf '%s\\n' '{json.dumps(KERNEL)}' > /etc/sealer-lab/kernel.json"])
    lab.on(n1, ["sh", "-c", f"echo '{SWAP_LINE}' >> /etc/fstab"])
    lab.on(n1, ["rm", "-f", "/run/sealer-lab/kernel.json"])  # as if it had booted so
    # something else holds 6443 on master0, and node-2 has node-1's name (a cloned VM)
    listener = (
        "import socket,time; s=socket.socket(); s.bind(('0.0.0.0', 6443)); s.listen(); "
        "time.sleep(3600)"
    )
    lab.on(m0, ["sh", "-c", f'setsid python3 -c "{listener}" >/dev/null 2>&1 < /dev/null &'])
    wait_for("a listener on 6443 on master0", lambda: lab.listening(m0, 6443), timeout=60)
    lab.on(n2, ["hostname", n1.name])
    for host in lab.lab.hosts:
        lab.on(host, ["lsmod"])  # the hosts' kernels are up (their state read once)
    before = lab.snapshot()

    diff = lab.sealer("diff")
    assert diff.returncode == 1, diff.stdout + diff.stderr
    lines = diff.stdout.splitlines()
    assert any(
        line.strip().startswith(f"error ports: {m0.address}: port 6443 is in use by python3")
        for line in lines
    ), diff.stdout
    duplicate = f"error hostname: {n1.address}, {n2.address}: 2 hosts have the same hostname"
    assert any(line.strip().startswith(duplicate) for line in lines), diff.stdout
    assert (
        f"preflight found 2 errors on {', '.join(sorted([m0.address, n1.address, n2.address]))}"
        in diff.stderr
    )
    # apply, here with --output json: the same report as a document, and no change
    apply = lab.sealer("apply", "--yes", "--output", "json")
    assert apply.returncode == 1, apply.stdout + apply.stderr
    assert "no host was changed" in apply.stderr
    document = json.loads(apply.stdout)
    assert document["steps"] == [] and document["succeeded"] is False
    report = document["preflight"]
    assert report["errors"] == 2
    errors = [(f["check"], f["hosts"]) for f in report["findings"] if f["severity"] == "error"]
    assert errors == [("ports", [m0.address]), ("hostname", [n1.address, n2.address])]
    warnings = {
        (f["check"], tuple(f["hosts"])) for f in report["findings"] if f["severity"] == "warning"
    }
    assert {
        ("swap", (n1.address,)),
        ("kernel-modules", (n1.address,)),
        ("sysctls", (n1.address,)),
    } <= warnings
    assert lab.snapshot() == before
    assert "/swapfile" in lab.on(n1, ["swapon", "--show=NAME", "--noheadings"])


def test_with_the_listener_gone_and_the_name_fixed_apply_prepares_and_succeeds(lab: Lab) -> None:
    m0, n1, n2 = lab.master0, lab.node1, lab.node2
    lab.on(m0, ["pkill", "-f", "s.bind"], check=False)
    wait_for("6443 free on master0", lambda: not lab.listening(m0, 6443), timeout=60)
    lab.on(n2, ["hostname", n2.name])

    plan = json.loads(lab.sealer("diff", "--output", "json").stdout)
    prepare = [s for s in plan["steps"] if s["name"] == "prepare"]
    assert prepare == [
        {
            "name": "prepare",
            "host": n1.address,
            "why": "swap is on; kernel module(s) br_netfilter not loaded; "
            "net.ipv4.ip_forward, net.bridge.bridge-nf-call-iptables not 1",
            "after": [],
            "flags": ["swapoff", "modprobe:br_netfilter", "sysctl:net.ipv4.ip_forward",
                      "sysctl:net.bridge.bridge-nf-call-iptables"],
            "id": f"prepare@{n1.address}",
        }
    ]  # fmt: skip
    assert f"prepare@{n1.address}" in next(
        s["after"] for s in plan["steps"] if s["id"] == f"distribute@{n1.address}"
    )

    # sealer status on the fresh hosts: every one reachable, no cluster yet, changes pending
    status = lab.sealer("status", "--output", "json")
    assert status.returncode == 2, status.stdout + status.stderr
    report = json.loads(status.stdout)
    assert report["pending"]["steps"] == len(plan["steps"])
    assert report["control_plane"]["initialized"] is False and report["problems"] == []
    assert [h["reachable"] for h in report["hosts"]] == [True, True, True]
    assert [h["joined_as"] for h in report["hosts"]] == [None, None, None]

    apply = lab.sealer("apply", "--yes")
    assert apply.returncode == 0, apply.stdout + apply.stderr
    assert lab.on(n1, ["swapon", "--show=NAME", "--noheadings"]) == ""
    assert f"#sealer-swapoff# {SWAP_LINE}" in lab.on(n1, ["cat", "/etc/fstab"]).splitlines()
    assert "br_netfilter" in lab.on(n1, ["lsmod"])
    assert "br_netfilter" in lab.on(n1, ["cat", "/etc/modules-load.d/sealer.conf"]).splitlines()
    assert (
        lab.on(n1, ["sysctl", "-n", "net.ipv4.ip_forward", "net.bridge.bridge-nf-call-iptables"])
        == "1\n1\n"
    )
    # the other hosts needed nothing: nothing was written for them
    for host in (m0, n2):
        assert (
            lab.on(
                host,
                ["ls", "/etc/modules-load.d/sealer.conf", "/etc/sysctl.d/99-sealer.conf"],
                check=False,
            )
            == ""
        )

    # re-applying on the running cluster: its own ports (6443 on master0, 10250) are no error
    again = lab.sealer("diff")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "preflight" not in again.stdout


def test_clean_gives_back_what_prepare_added(lab: Lab) -> None:
    n1 = lab.node1
    clean = lab.sealer("clean", "--yes")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert SWAP_LINE in lab.on(n1, ["cat", "/etc/fstab"]).splitlines()
    left = lab.on(
        n1, ["ls", "/etc/modules-load.d/sealer.conf", "/etc/sysctl.d/99-sealer.conf"], check=False
    )
    assert left == ""


#: What `kubeadm init` leaves on master0: none of it may exist after a refused runtime.
INIT_TRACES = ("/etc/kubernetes/admin.conf", "/var/lib/etcd/member", "/var/lib/kubelet/config.yaml")
RUNTIME_REFUSED = (
    "the container runtime does not answer on unix:///run/containerd/containerd.sock "
    '(validate service connection: validate CRI v1 runtime API for endpoint "unix:///run/'
    'containerd/containerd.sock": rpc error: code = Unimplemented desc = unknown service '
    "runtime.v1.RuntimeService)"
)


def _with_package(lab: Lab, package: str, name: str) -> Path:
    """A copy of the lab's Clusterfile whose package is ``package``."""
    yaml = YAML()
    data = yaml.load(lab.file.read_text())
    data["spec"]["package"] = {"source": package}
    path = lab.file.with_name(name)
    with path.open("w") as handle:
        yaml.dump(data, handle)
    return path


def _init_traces(lab: Lab) -> list[str]:
    found = lab.on(lab.master0, ["ls", "-d", *INIT_TRACES], check=False)
    return found.split()


def test_a_runtime_that_answers_no_cri_is_named_before_kubeadm_runs(lab: Lab) -> None:
    """The package's init.sh starts a containerd whose configuration disables the CRI plugin
    (`sealer lab package --broken-runtime`): every install names its host and the runtime, and
    no kubeadm init runs; a re-apply on the installed hosts is refused by init the same way."""
    assert _init_traces(lab) == []  # given back by the clean before
    # named as the good package is (kube<version>.tar.gz): the next apply's copy replaces it
    package = lab.file.parent / "broken-runtime" / f"kube{VERSION[1:]}.tar.gz"
    package.parent.mkdir()
    built = sealer("lab", "package", "--version", VERSION, "--broken-runtime", "-o", str(package))
    assert built.returncode == 0, built.stdout + built.stderr
    good = lab.file
    lab.file = _with_package(lab, str(package), "broken-runtime.yaml")
    try:
        apply = lab.sealer("apply", "--yes")
        again = lab.sealer("apply", "--yes")  # installed now: init itself asks the runtime
        status = lab.sealer("status", "--output", "json")
    finally:
        lab.file = good
    assert apply.returncode == 1, apply.stdout + apply.stderr
    output = apply.stdout + apply.stderr
    assert "Traceback" not in output
    for host in lab.lab.hosts:
        assert f"install on {host.address}: {RUNTIME_REFUSED}" in output, output
    assert f"journalctl -u containerd` on {lab.master0.address}" in output
    assert _init_traces(lab) == []
    assert again.returncode == 1, again.stdout + again.stderr
    assert f"init on {lab.master0.address}: {RUNTIME_REFUSED}" in again.stdout + again.stderr
    assert _init_traces(lab) == []
    assert status.returncode == 3, status.stdout + status.stderr
    problems = json.loads(status.stdout)["problems"]
    for host in lab.lab.hosts:
        assert (
            f"{host.address}: the container runtime does not answer (validate service "
            "connection: validate CRI v1 runtime API for endpoint" in "\n".join(problems)
        ), problems


def test_the_good_package_installs_a_runtime_that_answers_and_the_cluster_converges(
    lab: Lab,
) -> None:
    apply = lab.sealer("apply", "--yes")
    assert apply.returncode == 0, apply.stdout + apply.stderr
    info = json.loads(
        lab.on(
            lab.node2,
            ["crictl", "--runtime-endpoint", "unix:///run/containerd/containerd.sock", "info"],
        )
    )
    assert {c["type"]: c["status"] for c in info["status"]["conditions"]}["RuntimeReady"] is True

    def ready_nodes() -> list[str]:
        nodes = json.loads(
            lab.on(
                lab.master0,
                [
                    "kubectl",
                    "--kubeconfig",
                    "/etc/kubernetes/admin.conf",
                    "get",
                    "nodes",
                    "-o",
                    "json",
                ],
            )
        )["items"]
        ready = [
            n["metadata"]["name"]
            for n in nodes
            if any(
                c["type"] == "Ready" and c["status"] == "True" for c in n["status"]["conditions"]
            )
        ]
        return ready if len(ready) == len(lab.lab.hosts) else []

    wait_for("every node Ready", ready_nodes, timeout=300)
    diff = lab.sealer("diff")
    assert diff.returncode == 0, diff.stdout + diff.stderr
