"""The certificates of a cluster sealer made, and ``sealer certs check/renew``, on the lab.

One lab for the module: three master hosts and one node. The Clusterfile first lists two
masters and the node; a later test adds the third master, as an operator would. The tests run
in order and build on each other.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import socket
import ssl
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from ruamel.yaml import YAML

import sealer_lab
from sealer.clusterfile import load as load_clusterfile
from tests.conftest import SUDO_USER, kubernetes_lab
from tests.sealer_cli import run_sealer as sealer
from tests.secret_watch import (
    SecretWatch,
    cluster_secrets,
    files_under,
    found_in,
    kubeadm_lines,
    token_secrets,
)
from tests.waiting import wait_for

pytestmark = [pytest.mark.lab, pytest.mark.slow]

VERSION = "v1.29.3"
YEARS_98 = dt.timedelta(days=365 * 98)
#: The leaves sealer issues on every master, with the CA that signs each.
LEAVES = {
    "apiserver": "ca",
    "apiserver-kubelet-client": "ca",
    "front-proxy-client": "front-proxy-ca",
    "etcd/server": "etcd/ca",
    "etcd/peer": "etcd/ca",
    "etcd/healthcheck-client": "etcd/ca",
    "apiserver-etcd-client": "etcd/ca",
}
KUBECONFIGS = ("admin.conf", "controller-manager.conf", "scheduler.conf")


class Cluster:
    def __init__(self, lab: sealer_lab.Lab, file: Path) -> None:
        self.lab = lab
        self.file = file
        #: The sudo user's apply (its runs) and what was watched while it ran.
        self.sudo_run: tuple[list[subprocess.CompletedProcess[str]], SecretWatch] | None = None

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        verb = list(args[:2]) if args[0] == "certs" else [args[0]]
        rest = args[len(verb) :]
        return sealer(
            *verb,
            "-f",
            str(self.file),
            "--known-hosts",
            str(self.lab.known_hosts),
            *rest,
            env={"XDG_STATE_HOME": str(self.state)},
        )

    @property
    def state(self) -> Path:
        """sealer's state directory for this lab's runs (run logs, etcd snapshots)."""
        return self.file.parent / "state"

    def on(self, host: str, argv: list[str], check: bool = True) -> str:
        return self.lab.run(host, argv, check=check).stdout

    def masters(self) -> list[str]:
        return list(load_clusterfile(self.file).cluster.spec.master_addresses)

    def write(self, masters: list[str]) -> None:
        yaml = YAML()
        data = yaml.load(self.file.read_text())
        data["spec"]["masters"] = masters
        with self.file.open("w") as handle:
            yaml.dump(data, handle)

    def apply(self, *flags: str) -> list[subprocess.CompletedProcess[str]]:
        """Apply until the plan is empty (at most three runs: the emulated join of a second
        etcd member right after the first sometimes reports an unhealthy cluster); returns
        every run's result."""
        runs = []
        for _ in range(3):
            result = self.run("apply", "--yes", *(flags or ("--quiet",)))
            runs.append(result)
            diff = self.run("diff")
            if result.returncode == 0 and "No changes" in diff.stdout:
                return runs
        pytest.fail("apply did not converge:\n" + "\n---\n".join(r.stdout + r.stderr for r in runs))

    def set_user(self, user: str) -> None:
        yaml = YAML()
        data = yaml.load(self.file.read_text())
        data["spec"]["ssh"]["user"] = user
        with self.file.open("w") as handle:
            yaml.dump(data, handle)

    def pem(self, host: str, path: str) -> bytes:
        return self.on(host, ["cat", path]).encode()


@pytest.fixture(scope="module")
def cluster(lab_session_id: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    workdir = tmp_path_factory.mktemp("certs")
    options = {"version": VERSION, "sudo_user": SUDO_USER}
    with kubernetes_lab(lab_session_id, "certs", workdir, 3, 1, **options) as lab:
        assert lab.clusterfile is not None
        c = Cluster(lab, lab.clusterfile)
        c.write([h.address for h in lab.masters[:2]])
        yield c


def _verify_leaves(c: Cluster, host: str) -> None:
    for leaf, ca in LEAVES.items():
        out = c.on(
            host,
            ["openssl", "verify", "-CAfile", f"/etc/kubernetes/pki/{ca}.crt",
             f"/etc/kubernetes/pki/{leaf}.crt"],
        )  # fmt: skip
        assert out.strip().endswith(": OK"), (host, leaf, out)


def _check_rows(c: Cluster) -> list[dict[str, Any]]:
    result = c.run("certs", "check", "--output", "json")
    assert result.returncode == 0, result.stdout + result.stderr
    data = json.loads(result.stdout)
    assert data["problems"] == []
    rows: list[dict[str, Any]] = data["certificates"]
    return rows


def _sealer_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows of certificates sealer issues (not the kubelet's own client certificate,
    which the kubelet rotates, nor super-admin.conf, which only master0 gets from sealer)."""
    names = {f"pki/{leaf}.crt" for leaf in LEAVES} | set(KUBECONFIGS)
    names |= {"pki/ca.crt", "pki/front-proxy-ca.crt", "pki/etcd/ca.crt"}
    return [r for r in rows if r["name"] in names]


def _assert_long_lived(c: Cluster, hosts: list[str]) -> None:
    rows = _sealer_rows(_check_rows(c))
    soonest = dt.datetime.now(dt.UTC) + YEARS_98
    for host in hosts:
        mine = [r for r in rows if r["host"] == host]
        assert {r["name"] for r in mine} >= {f"pki/{leaf}.crt" for leaf in LEAVES}, host
        for row in mine:
            assert dt.datetime.fromisoformat(row["not_after"]) >= soonest, row
            assert row["signed_by_ca_ok"] is True, row


def _kubeadm_residual(c: Cluster, host: str) -> dict[str, str]:
    """``kubeadm certs check-expiration``: certificate name -> RESIDUAL TIME."""
    out = c.on(host, ["kubeadm", "certs", "check-expiration"])
    residual = {}
    for line in out.splitlines():
        match = re.match(r"(\S+)\s+\w{3} \d\d, \d{4} \d\d:\d\d UTC\s+(\S+)", line)
        if match:
            residual[match.group(1)] = match.group(2)
    return residual


def _assert_kubeadm_long(c: Cluster, host: str) -> None:
    residual = _kubeadm_residual(c, host)
    wanted = {*LEAVES, "apiserver-kubelet-client", *KUBECONFIGS, "ca", "front-proxy-ca"}
    wanted = {w.replace("/", "-") for w in wanted} | {"etcd-ca"}
    assert wanted <= set(residual), residual
    for name in wanted:
        value = residual[name]
        assert value.endswith("y") and int(value[:-1]) >= 98, (host, name, value)


def test_apply_issues_certificates_that_verify_and_last(cluster: Cluster) -> None:
    cluster.apply()
    for host in cluster.masters():
        _verify_leaves(cluster, host)
        _assert_kubeadm_long(cluster, host)
    _assert_long_lived(cluster, cluster.masters())
    # master0 (kubeadm init) also has super-admin.conf from sealer, long-lived too
    master0 = cluster.masters()[0]
    rows = [r for r in _check_rows(cluster) if r["host"] == master0]
    admin = next(r for r in rows if r["name"] == "super-admin.conf")
    assert dt.datetime.fromisoformat(admin["not_after"]) >= dt.datetime.now(dt.UTC) + YEARS_98


def test_check_shows_every_certificate_in_text(cluster: Cluster) -> None:
    result = cluster.run("certs", "check")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    for host in cluster.masters():
        names = {line.split()[1] for line in lines if line.startswith(host + " ")}
        assert {"pki/apiserver.crt", "pki/etcd/ca.crt", "admin.conf"} <= names


def test_check_names_an_unreachable_master_and_still_shows_the_others(cluster: Cluster) -> None:
    masters = cluster.masters()
    # an address of the lab's own network where no host answers
    absent = masters[0].rsplit(".", 1)[0] + ".250"
    yaml = YAML()
    data = yaml.load(cluster.file.read_text())
    data["spec"]["masters"] = [*masters, absent]
    with tempfile.NamedTemporaryFile(
        "w", suffix=".yaml", dir=cluster.file.parent, delete=False
    ) as handle:
        yaml.dump(data, handle)
    edited = Path(handle.name)
    try:
        result = sealer(
            "certs", "check", "-f", str(edited), "--known-hosts", str(cluster.lab.known_hosts),
            "--connect-timeout", "2", "--output", "json",
        )  # fmt: skip
    finally:
        edited.unlink()
    assert result.returncode == 1, result.stdout + result.stderr
    data = json.loads(result.stdout)
    assert {r["host"] for r in data["certificates"]} == set(masters)
    assert [(p["severity"], p["host"]) for p in data["problems"]] == [("error", absent)]
    assert data["problems"][0]["message"].startswith("cannot read: ")


def test_the_api_name_verifies_from_every_host_and_nodes_go_through_the_vip(
    cluster: Cluster,
) -> None:
    spec = load_clusterfile(cluster.file).cluster.spec
    for host in cluster.lab.hosts:
        if host.role == "master" and host.address not in spec.master_addresses:
            continue  # not in the cluster yet
        out = cluster.on(
            host.address,
            ["curl", "-sS", "--max-time", "10", "--cacert", "/etc/kubernetes/pki/ca.crt",
             "-o", "/dev/null", "-w", "%{http_code} %{remote_ip}",
             f"https://{spec.network.api_server_domain}:6443/healthz"],
        )  # fmt: skip
        code, remote = out.split()
        assert code == "200", (host.address, out)
        if host.role == "node":
            assert remote == spec.vip, (host.address, out)
        else:
            assert remote in spec.master_addresses, (host.address, out)


def test_a_master_added_later_gets_the_same_certificates(cluster: Cluster) -> None:
    """Added through the lab's sudo user (sudo cat of the CA keys, uploads through the user's
    home), every command line and bootstrap token watched while it runs."""
    cluster.write([h.address for h in cluster.lab.masters])
    cluster.set_user(SUDO_USER)
    try:
        with SecretWatch(cluster.lab, cluster.masters()[0]) as watch:
            runs = cluster.apply("--output", "json")
    finally:
        cluster.set_user("root")
    cluster.sudo_run = (runs, watch)
    new = cluster.lab.masters[2].address
    _verify_leaves(cluster, new)
    _assert_kubeadm_long(cluster, new)
    _assert_long_lived(cluster, [new])
    master0 = cluster.masters()[0]
    for ca in ("ca", "front-proxy-ca", "etcd/ca"):
        path = f"/etc/kubernetes/pki/{ca}.crt"
        assert cluster.pem(new, path) == cluster.pem(master0, path)


def test_the_sudo_users_apply_wrote_no_secret_anywhere(cluster: Cluster) -> None:
    """The join of the third master through a sudo user: its bootstrap token and the
    cluster's keys (read with sudo cat) appear in no run log, no message, no JSON output and on
    no command line; the token is gone once the run is done."""
    assert cluster.sudo_run is not None, "the sudo user's apply did not run"
    runs, watch = cluster.sudo_run
    master0 = cluster.masters()[0]
    assert watch.tokens, "no bootstrap token was seen while the master joined"
    needles = {**watch.needles(), **cluster_secrets(cluster.lab, master0)}
    texts: dict[str, str] = files_under(cluster.state / "sealer" / "runs")
    assert texts, "no run log was written"
    for index, run in enumerate(runs):
        texts[f"stdout of apply {index} (--output json)"] = run.stdout
        texts[f"stderr of apply {index}"] = run.stderr
    texts["every command line"] = "\n".join(watch.cmdlines)
    assert found_in(needles, texts) == []
    seen = kubeadm_lines(watch.cmdlines)
    assert any(
        line.startswith("sudo -n -- ") and "kubeadm join --config" in line for line in seen
    ), seen
    assert any("kubeadm token create --config" in line for line in seen), seen
    assert token_secrets(cluster.lab, master0) == []


class ReadyzPoller:
    """Samples ``https://<master>:6443/readyz`` of every master from the test, verifying the
    server against the cluster CA, until stopped: each sample is the set of masters down."""

    def __init__(self, masters: list[str], ca_pem: bytes) -> None:
        self.masters = masters
        self.context = ssl.create_default_context(cadata=ca_pem.decode())
        self.samples: list[frozenset[str]] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)

    def ready(self, address: str) -> bool:
        try:
            with (
                socket.create_connection((address, 6443), timeout=2) as raw,
                self.context.wrap_socket(raw, server_hostname=address) as tls,
            ):
                tls.sendall(
                    f"GET /readyz HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n".encode()
                )
                return re.match(rb"HTTP/1\.[01] 200 ", tls.recv(64)) is not None
        except OSError:
            return False

    def _loop(self) -> None:
        while not self.stop.is_set():
            self.samples.append(frozenset(a for a in self.masters if not self.ready(a)))
            self.stop.wait(0.2)

    def __enter__(self) -> ReadyzPoller:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()


def _served_sans(address: str, ca_pem: bytes) -> list[str]:
    context = ssl.create_default_context(cadata=ca_pem.decode())
    with (
        socket.create_connection((address, 6443), timeout=5) as raw,
        context.wrap_socket(raw, server_hostname=address) as tls,
    ):
        der = tls.getpeercert(binary_form=True)
    assert der is not None
    ext = x509.load_der_x509_certificate(der).extensions
    names = ext.get_extension_for_class(x509.SubjectAlternativeName).value
    return [*names.get_values_for_type(x509.DNSName)] + [
        str(ip) for ip in names.get_values_for_type(x509.IPAddress)
    ]


def test_renew_refuses_without_a_terminal_or_with_a_bad_san(cluster: Cluster) -> None:
    before = cluster.pem(cluster.masters()[0], "/etc/kubernetes/pki/apiserver.crt")
    result = cluster.run("certs", "renew")
    assert result.returncode != 0
    assert "no terminal to confirm on" in result.stderr
    bad = cluster.run("certs", "renew", "--yes", "--add-san", "not_a name")
    assert bad.returncode != 0
    assert "'not_a name'" in bad.stderr
    assert cluster.pem(cluster.masters()[0], "/etc/kubernetes/pki/apiserver.crt") == before


def test_renew_refuses_when_a_master_is_down(cluster: Cluster) -> None:
    victim = cluster.masters()[1]
    manifest = "/etc/kubernetes/manifests/kube-apiserver.yaml"
    parked = "/etc/kubernetes/kube-apiserver.yaml.parked"
    before = {h: cluster.pem(h, "/etc/kubernetes/pki/apiserver.crt") for h in cluster.masters()}
    cluster.on(victim, ["mv", manifest, parked])
    try:
        result = cluster.run("certs", "renew", "--yes")
        assert result.returncode != 0
        assert "refusing to renew" in result.stderr
        assert victim in result.stderr
    finally:
        cluster.on(victim, ["mv", parked, manifest])
    after = {h: cluster.pem(h, "/etc/kubernetes/pki/apiserver.crt") for h in cluster.masters()}
    assert after == before


def test_renew_adds_a_san_one_master_at_a_time(cluster: Cluster) -> None:
    masters = cluster.masters()
    master0 = masters[0]
    ca_pem = cluster.pem(master0, "/etc/kubernetes/pki/ca.crt")
    cas_before = {
        p: cluster.pem(master0, f"/etc/kubernetes/pki/{p}")
        for p in ("ca.crt", "ca.key", "etcd/ca.crt", "front-proxy-ca.crt", "sa.key")
    }
    # the masters must be ready before: wait for the one test_renew_refuses... restarted
    probe = ReadyzPoller(masters, ca_pem)
    wait_for(
        lambda: f"every master's /readyz (down now: {[m for m in masters if not probe.ready(m)]})",
        lambda: all(probe.ready(m) for m in masters),
        timeout=120,
        interval=0.5,
    )
    with ReadyzPoller(masters, ca_pem) as poller:
        result = cluster.run("certs", "renew", "--yes", "--add-san", "renewed.example.com",
                             "--add-san", "192.0.2.77", "--output", "json")  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert [m["address"] for m in report["masters"]] == masters
    assert report["missing_from_cert_sans"] == ["renewed.example.com", "192.0.2.77"]
    # never two masters down at the same time, and each master really went down once
    assert max(len(s) for s in poller.samples) <= 1, poller.samples
    for master in masters:
        assert any(master in s for s in poller.samples), master
    for master in masters:
        sans = _served_sans(master, ca_pem)
        assert "renewed.example.com" in sans and "192.0.2.77" in sans, (master, sans)
        _verify_leaves(cluster, master)
        _assert_kubeadm_long(cluster, master)
        for path in ("apiserver.key", "etcd/peer.key", "front-proxy-client.key"):
            mode = cluster.on(master, ["stat", "-c", "%a", f"/etc/kubernetes/pki/{path}"])
            assert mode.strip() == "600", (master, path)
        for conf in KUBECONFIGS:
            mode = cluster.on(master, ["stat", "-c", "%a", f"/etc/kubernetes/{conf}"])
            assert mode.strip() == "600", (master, conf)
    # the same CAs and service-account key: nothing else needed re-trusting
    for path, content in cas_before.items():
        assert cluster.pem(master0, f"/etc/kubernetes/pki/{path}") == content, path
    _assert_long_lived(cluster, masters)
    # the cluster still works with the renewed kubeconfigs, and no key reached the output
    nodes = cluster.on(master0, ["kubectl", "--kubeconfig", "/etc/kubernetes/admin.conf",
                                 "get", "nodes", "-o", "name"])  # fmt: skip
    assert len(nodes.split()) == 4
    assert "PRIVATE KEY" not in result.stdout + result.stderr
    log = Path(report["log"]).read_text()
    assert "PRIVATE KEY" not in log
    # an etcd snapshot was taken before the first master restarted, and the path was printed
    snapshots = sorted((cluster.state / "sealer" / "snapshots").glob("*/etcd-*.db"))
    assert len(snapshots) == 1, snapshots
    assert f"copied to {snapshots[0]}" in result.stderr
    status = subprocess.run(
        ["etcdctl", "snapshot", "status", "-w", "json", str(snapshots[0])],
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(status.stdout)["totalKey"] > 0


def test_renew_through_a_sudo_user_says_when_cert_sans_already_list_the_san(
    cluster: Cluster,
) -> None:
    yaml = YAML()
    data = yaml.load(cluster.file.read_text())
    data["spec"].setdefault("network", {})["certSANs"] = ["renewed.example.com"]
    data["spec"]["ssh"]["user"] = SUDO_USER
    with tempfile.NamedTemporaryFile(
        "w", suffix=".yaml", dir=cluster.file.parent, delete=False
    ) as handle:
        yaml.dump(data, handle)
    edited = Path(handle.name)
    flags = ["-f", str(edited), "--known-hosts", str(cluster.lab.known_hosts)]
    master = cluster.masters()[1]
    before = cluster.pem(master, "/etc/kubernetes/pki/apiserver.crt")
    try:
        check = sealer("certs", "check", *flags, "--output", "json")
        assert check.returncode == 0, check.stderr
        assert {r["host"] for r in json.loads(check.stdout)["certificates"]} == set(
            cluster.masters()
        )
        result = sealer("certs", "renew", *flags, "--yes", "--add-san", "Renewed.Example.com")
        assert result.returncode == 0, result.stdout + result.stderr
        assert "already lists every added SAN" in result.stderr
    finally:
        edited.unlink()
    assert cluster.pem(master, "/etc/kubernetes/pki/apiserver.crt") != before
    assert "renewed.example.com" in _served_sans(
        master, cluster.pem(master, "/etc/kubernetes/pki/ca.crt")
    )
    for path in ("pki/apiserver.crt", "pki/apiserver.key", "admin.conf"):
        owner = cluster.on(master, ["stat", "-c", "%U %a", f"/etc/kubernetes/{path}"]).split()
        assert owner == ["root", "644" if path.endswith(".crt") else "600"], (path, owner)
