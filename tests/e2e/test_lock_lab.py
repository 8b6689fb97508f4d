"""The run lock end to end: two sealer runs never change one cluster at once.

One small lab for the module (1 master, 2 nodes, links shaped so that package uploads take a
few seconds); the Clusterfile starts with one node and the tests run in order on the cluster
the previous one left: concurrent runs refuse, Ctrl-C and a normal end leave no lock, a killed
run's lock refuses the next run until --break-lock takes it over.
"""

from __future__ import annotations

import getpass
import json
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

import sealer_lab
from sealer.layout import RUN_LOCK, STATE_DIR
from tests.conftest import kubernetes_lab
from tests.sealer_cli import run_sealer, start_sealer

pytestmark = [pytest.mark.lab, pytest.mark.slow]

ADMIN = ["kubectl", "--kubeconfig", "/etc/kubernetes/admin.conf"]
#: A second run must give up on a held lock quickly, not wait for it.
REFUSAL_SECONDS = 30


def wait_for(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {seconds}s waiting for {what}")
        time.sleep(0.1)


class Cluster:
    def __init__(self, lab: sealer_lab.Lab, workdir: Path) -> None:
        self.lab = lab
        self.workdir = workdir
        assert lab.clusterfile is not None
        self.file = lab.clusterfile

    def args(self, verb: str, *extra: str) -> list[str]:
        return [verb, "-f", str(self.file), "--known-hosts", str(self.lab.known_hosts), *extra]

    def run(self, verb: str, *extra: str) -> subprocess.CompletedProcess[str]:
        return run_sealer(*self.args(verb, *extra))

    def start(self, verb: str, *extra: str) -> subprocess.Popen[str]:
        return start_sealer(*self.args(verb, *extra))

    def locked(self) -> list[str]:
        """The masters that have a lock file."""
        return [
            m.address
            for m in self.lab.masters
            if self.lab.run(m.address, ["test", "-e", RUN_LOCK], check=False).returncode == 0
        ]

    def set_nodes(self, count: int) -> None:
        yaml = YAML()
        data = yaml.load(self.file.read_text())
        data["spec"]["nodes"] = [h.address for h in self.lab.nodes[:count]]
        with self.file.open("w") as handle:
            yaml.dump(data, handle)

    def ready_nodes(self) -> int:
        out = self.lab.run(self.lab.masters[0].address, [*ADMIN, "get", "nodes", "-o", "json"])
        return sum(
            1
            for node in json.loads(out.stdout)["items"]
            for c in node["status"]["conditions"]
            if c["type"] == "Ready" and c["status"] == "True"
        )


def _uploaded_to(log: Path, address: str) -> bool:
    """The run has copied a file of the install (not its lock) to ``address``."""
    if not log.exists():
        return False
    for line in log.read_text().splitlines():
        try:
            record: dict[str, Any] = json.loads(line)
        except ValueError:  # a line being written
            continue
        path = record.get("path") or ""
        if record["kind"] == "put" and record["host"] == address and "run.lock" not in path:
            return True
    return False


def _finish(process: subprocess.Popen[str], timeout: float = 900) -> tuple[str, str]:
    try:
        return process.communicate(timeout=timeout)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()


@pytest.fixture(scope="module")
def cluster(lab_session_id: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    workdir = tmp_path_factory.mktemp("lock")
    with kubernetes_lab(lab_session_id, "lock", workdir, 1, 2, bandwidth="20mbit") as lab:
        made = Cluster(lab, workdir)
        made.set_nodes(1)
        yield made


def test_apply_and_clean_refuse_while_an_apply_runs(cluster: Cluster) -> None:
    first = cluster.start("apply", "--yes", "--quiet")
    try:
        wait_for(lambda: bool(cluster.locked()), 120, "the first apply to take the lock")
        started = time.monotonic()
        second = cluster.start("apply", "--yes", "--quiet")
        clean = cluster.start("clean", "--yes", "--quiet")
        second_out, second_err = _finish(second, REFUSAL_SECONDS + 30)
        took = time.monotonic() - started
        clean_out, clean_err = _finish(clean, 60)
    finally:
        out, err = _finish(first)
    assert first.returncode == 0, out + err
    assert second.returncode == 1, second_out + second_err
    assert took < REFUSAL_SECONDS, took
    master = cluster.lab.masters[0].address
    for part in (
        f"cluster {cluster.lab.name} is locked by another sealer run",
        "`apply`",
        f"{getpass.getuser()}@{socket.gethostname()}",
        f"pid {first.pid}",
        f"on {master} since ",
        "last heartbeat",
        "--break-lock",
    ):
        assert part in second_err, (part, second_err)
    assert "Traceback" not in second_err
    assert second_err.count("error:") == 1, second_err
    assert clean.returncode == 1, clean_out + clean_err
    assert "is locked by another sealer run" in clean_err and f"pid {first.pid}" in clean_err
    # the refused runs changed nothing and the first run converged
    assert cluster.locked() == []
    wait_for(lambda: cluster.ready_nodes() == 2, 180, "2 Ready nodes (the add-on ran)")
    assert cluster.run("diff").returncode == 0


def test_ctrl_c_gives_the_lock_back(cluster: Cluster) -> None:
    cluster.set_nodes(2)
    new = cluster.lab.nodes[1].address
    log = cluster.workdir / "interrupted.jsonl"
    process = cluster.start("apply", "--yes", "--quiet", "--log", str(log))
    try:
        wait_for(lambda: _uploaded_to(log, new), 300, f"the apply to copy files to {new}")
        assert cluster.locked(), "the running apply holds no lock"
        process.send_signal(signal.SIGINT)
        out, err = _finish(process, 120)
    finally:
        _finish(process, 10)
    assert process.returncode == 130, out + err
    assert "Traceback" not in err
    assert cluster.locked() == []


def test_a_killed_run_keeps_others_out_until_break_lock(cluster: Cluster) -> None:
    new = cluster.lab.nodes[1].address
    log = cluster.workdir / "killed.jsonl"
    process = cluster.start("apply", "--yes", "--quiet", "--log", str(log))
    try:
        wait_for(lambda: _uploaded_to(log, new), 300, f"the apply to copy files to {new}")
        process.send_signal(signal.SIGKILL)
    finally:
        _finish(process, 30)
    assert cluster.locked() == [cluster.lab.masters[0].address]

    diff = cluster.run("diff")
    assert diff.returncode in (0, 2), diff.stdout + diff.stderr
    assert "warning: another run holds the run lock" in diff.stderr, diff.stderr
    assert f"pid {process.pid}" in diff.stderr

    started = time.monotonic()
    refused = cluster.run("apply", "--yes", "--quiet")
    assert time.monotonic() - started < REFUSAL_SECONDS
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert f"pid {process.pid}" in refused.stderr
    assert "expires 90s after its last heartbeat" in refused.stderr, refused.stderr
    assert "take the lock over now with --break-lock" in refused.stderr

    taken = cluster.run("apply", "--yes", "--quiet", "--break-lock")
    assert taken.returncode == 0, taken.stdout + taken.stderr
    assert "warning: taking over the run lock" in taken.stderr
    assert f"pid {process.pid}" in taken.stderr and "--break-lock was given" in taken.stderr
    assert cluster.locked() == []
    wait_for(lambda: cluster.ready_nodes() == 3, 180, "3 Ready nodes (the add-on ran)")
    assert cluster.run("diff").returncode == 0


def test_clean_takes_the_lock_and_leaves_nothing(cluster: Cluster) -> None:
    result = cluster.run("clean", "--yes", "--quiet")
    assert result.returncode == 0, result.stdout + result.stderr
    for host in cluster.lab.hosts:
        listed = cluster.lab.run(host.address, ["ls", "-A", STATE_DIR])
        assert listed.stdout.strip() == "", (host.name, listed.stdout)
