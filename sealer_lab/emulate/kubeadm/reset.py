"""``kubeadm reset``: remove this host's etcd member, stop the kubelet and the static pods,
and delete what kubeadm wrote (as real reset does; iptables/IPVS/CNI are left, as it says)."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from sealer_lab.emulate import runtime, yamlio
from sealer_lab.emulate.kubeadm.common import say
from sealer_lab.emulate.kubeadm.errors import KubeadmError
from sealer_lab.emulate.kubeadm.etcdclient import EtcdClient, EtcdError
from sealer_lab.emulate.kubeadm.settings import KUBE_DIR, KUBELET_DIR, MANIFESTS

__all__ = ["run_reset"]

KUBECONFIGS = (
    "admin.conf",
    "super-admin.conf",
    "kubelet.conf",
    "bootstrap-kubelet.conf",
    "controller-manager.conf",
    "scheduler.conf",
)


def _etcd_flags() -> dict[str, str]:
    path = MANIFESTS / "etcd.yaml"
    if not path.is_file():
        return {}
    try:
        doc = yamlio.load(path.read_text()) or {}
        command = doc["spec"]["containers"][0].get("command") or []
    except (KeyError, IndexError, TypeError, ValueError):
        return {}
    flags = {}
    for word in command:
        if str(word).startswith("--"):
            k, _, v = str(word)[2:].partition("=")
            flags[k] = v
    return flags


def remove_etcd_member(cert_dir: Path) -> tuple[list[str], str]:
    """Returns (output, data dir of the local etcd or '')."""
    flags = _etcd_flags()
    if not flags:
        return [], ""
    data_dir = flags.get("data-dir", "/var/lib/etcd")
    peer = flags.get("initial-advertise-peer-urls", "")
    client = EtcdClient(
        ("https://127.0.0.1:2379",),
        cert_dir / "etcd" / "ca.crt",
        cert_dir / "etcd" / "healthcheck-client.crt",
        cert_dir / "etcd" / "healthcheck-client.key",
        timeout=5.0,
    )
    # kubeadm's etcd client retries a failed member list or removal with a back-off: etcd
    # answers "unhealthy cluster" just after a member restarted, "server stopped" while the
    # local member restarts, and times out on a loaded machine. So does this. (kubeadm also
    # asks the other members; this asks only the local one, so a local etcd that is gone for
    # good -- connection refused -- still fails at once, as it did.)
    transient = ("unhealthy cluster", "server stopped", "timed out", "deadline exceeded")
    deadline = time.monotonic() + 60
    while True:
        try:
            members = client.members()
            mine = [m for m in members if peer in m.peer_urls or m.name == flags.get("name")]
            if mine and len(members) > 1:
                client.remove(mine[0].id)
                return ["[reset] Removing info for node from etcd: member removed"], data_dir
            return [], data_dir
        except (EtcdError, OSError) as exc:
            if time.monotonic() < deadline and any(t in str(exc).lower() for t in transient):
                time.sleep(0.5)
                continue
            sys.stderr.write(
                f"[reset] Failed to remove etcd member: {exc}\n"
                "Please manually remove this etcd member using etcdctl\n"
            )
            return [], data_dir


def _kill_static_pods() -> None:
    state = KUBELET_DIR / "emulate" / "pods.json"
    try:
        pods = json.loads(state.read_text())
    except (OSError, ValueError):
        return
    pids = [
        p["pid"]
        for p in pods.values()
        if runtime.pid_alive(p.get("pid", 0)) and runtime.start_time(p["pid"]) == p["start"]
    ]
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and any(runtime.pid_alive(p) for p in pids):
        time.sleep(0.1)
    for pid in pids:
        if runtime.pid_alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)


def _clear(directory: Path) -> None:
    if not directory.is_dir():
        return
    for child in directory.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)


#: ``kubeadm reset``'s phases (``kubeadm reset phase --help``); ``--skip-phases`` takes these.
PHASES = ("preflight", "remove-etcd-member", "cleanup-node")


def run_reset(
    *, force: bool, cert_dir: Path = KUBE_DIR / "pki", skip_phases: tuple[str, ...] = ()
) -> int:
    for phase in skip_phases:
        if phase not in PHASES:
            raise KubeadmError(f'invalid phase name "{phase}"')
    if not force:
        sys.stdout.write(
            "W1126 reset.go] [reset] WARNING: Changes made to this host by 'kubeadm init' or "
            "'kubeadm join' will be reverted.\n[reset] Are you sure you want to proceed? [y/N]: "
        )
        sys.stdout.flush()
        answer = sys.stdin.readline().strip().lower()
        if answer not in ("y", "yes"):
            raise KubeadmError("aborted reset operation")
    if "preflight" not in skip_phases:
        say("[preflight] Running pre-flight checks")
    # the etcd data dir is emptied by the remove-etcd-member phase: skipped, it stays
    data_dir = ""
    if "remove-etcd-member" not in skip_phases:
        out, data_dir = remove_etcd_member(cert_dir)
        say(out)
    if "cleanup-node" in skip_phases:
        return 0
    say("[reset] Stopping the kubelet service")
    subprocess.run(
        ["systemctl", "stop", "kubelet"],
        check=False,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    say('[reset] Unmounting mounted directories in "/var/lib/kubelet"')
    _kill_static_pods()
    say(
        "[reset] Deleting contents of directories: [/etc/kubernetes/manifests /var/lib/kubelet"
        + (f" {data_dir}" if data_dir else "")
        + "]"
    )
    _clear(MANIFESTS)
    _clear(KUBELET_DIR)
    if data_dir:
        _clear(Path(data_dir))
    say(f"[reset] Deleting contents of config directories: [{MANIFESTS} {cert_dir}]")
    _clear(cert_dir)
    files = [str(KUBE_DIR / f) for f in KUBECONFIGS]
    say(f"[reset] Deleting files: [{' '.join(files)}]")
    for f in files:
        Path(f).unlink(missing_ok=True)
    say(
        [
            "",
            "The reset process does not clean CNI configuration. To do so, you must remove "
            "/etc/cni/net.d",
            "",
            "The reset process does not reset or clean up iptables rules or IPVS tables.",
            'If you wish to reset iptables, you must do so manually by using the "iptables" '
            "command.",
            "",
            "If your cluster was setup to utilize IPVS, run ipvsadm --clear (or similar)",
            "to reset your system's IPVS tables.",
            "",
            "The reset process does not clean your kubeconfig files and you must remove them "
            "manually.",
            "Please, check the contents of the $HOME/.kube/config file.",
        ]
    )
    return 0
