from __future__ import annotations

from pathlib import Path

import pytest

from sealer.connect import Result
from sealer.facts import (
    UnexpectedExit,
    arch,
    file_sha256,
    hostname,
    kube_state,
    kubeadm_version,
    kubectl_version,
    kubelet_version,
    parse_etcd_members,
    parse_nodes,
    parse_os_release,
    python3,
    version_tuple,
)
from sealer.facts.system import parse_sha256sums
from sealer.layout import ADMIN_CONF, APISERVER_MANIFEST, KUBELET_CONF, KUBELET_CONFIG

FIXTURES = Path(__file__).parent / "fixtures"


def ok(stdout: str) -> Result:
    return Result(0, stdout, "")


def test_hostname() -> None:
    assert hostname.parse(ok("master-0\n")) == "master-0"
    assert hostname.parse(ok("node-1.dc1.example.com\n")) == "node-1.dc1.example.com"
    # the kubelet and kubeadm lower-case the host name (GetHostname): so does sealer
    assert hostname.parse(ok("Master-0\n")) == "master-0"
    for bad in ("--kubeconfig=/tmp/x", "node_1", "-node", "node-", "a..b", "x" * 254):
        with pytest.raises(ValueError, match="is not an RFC 1123 name"):
            hostname.parse(ok(bad + "\n"))
    with pytest.raises(ValueError):
        hostname.parse(ok("\n"))
    with pytest.raises(UnexpectedExit):
        hostname.parse(Result(1, "", "hostname: boom"))


@pytest.mark.parametrize(
    ("fixture", "id_", "version", "id_like", "pretty"),
    [
        ("os-release.debian12", "debian", "12", (), "Debian GNU/Linux 12 (bookworm)"),
        ("os-release.ubuntu2204", "ubuntu", "22.04", ("debian",), "Ubuntu 22.04.4 LTS"),
        (
            "os-release.rocky9",
            "rocky",
            "9.3",
            ("rhel", "centos", "fedora"),
            "Rocky Linux 9.3 (Blue Onyx)",
        ),
    ],
)
def test_os_release(
    fixture: str, id_: str, version: str, id_like: tuple[str, ...], pretty: str
) -> None:
    parsed = parse_os_release((FIXTURES / fixture).read_text())
    assert (parsed.id, parsed.version_id, parsed.id_like) == (id_, version, id_like)
    assert parsed.pretty_name.startswith(pretty)


def test_os_release_without_id_is_an_error() -> None:
    with pytest.raises(ValueError, match="no ID"):
        parse_os_release('NAME="x"\n')


def test_arch() -> None:
    assert arch.parse(ok("x86_64\n")).name == "amd64"
    assert arch.parse(ok("aarch64\n")).name == "arm64"
    assert arch.parse(ok("riscv64\n")).name == "riscv64"


def test_python3() -> None:
    assert python3.argv == ("sh", "-c", "command -v python3")
    assert python3.parse(ok("/usr/bin/python3\n")) == "/usr/bin/python3"
    assert python3.parse(Result(1, "", "")) is None
    with pytest.raises(UnexpectedExit):
        python3.parse(Result(2, "", "sh: syntax error"))


def test_sha256() -> None:
    fact = file_sha256("/root/kube.tar.gz")
    assert fact.argv == ("sha256sum", "--", "/root/kube.tar.gz")
    digest = "427f93cafd9cc19be6eec03e590c9c6cdf9f688a5eaf21fa8d72351e2b15fd05"
    assert fact.parse(ok(f"{digest}  /root/kube.tar.gz\n")) == digest
    assert fact.parse(ok(f"\\{digest}  /root/a\\\\b\n")) == digest  # escaped file name
    missing = Result(1, "", "sha256sum: /root/kube.tar.gz: No such file or directory\n")
    assert fact.parse(missing) is None
    with pytest.raises(UnexpectedExit):
        fact.parse(Result(1, "", "sha256sum: /root/x: Permission denied\n"))
    with pytest.raises(ValueError):
        fact.parse(ok("garbage\n"))


def test_sha256_of_several_files() -> None:
    a, b = "1" * 64, "2" * 64
    out = f"{a}  /usr/bin/kubectl\n{b}  /var/lib/sealer/package/kube/bin/kubectl\n\\{a}  /x\\ny\n"
    assert parse_sha256sums(out) == {
        "/usr/bin/kubectl": a,
        "/var/lib/sealer/package/kube/bin/kubectl": b,
    }
    assert parse_sha256sums("") == {}


def test_kube_versions() -> None:
    assert kubeadm_version.parse(ok("v1.29.3\n")) == "v1.29.3"
    assert kubelet_version.parse(ok("Kubernetes v1.29.3\n")) == "v1.29.3"
    real = (FIXTURES / "kubectl-version.json").read_text()
    assert kubectl_version.parse(ok(real)) == "v1.32.4-dispatcher"
    assert version_tuple("v1.32.4-dispatcher") == (1, 32, 4)
    for fact in (kubeadm_version, kubelet_version, kubectl_version):
        assert fact.parse(Result(127, "", "sh: 1: kubeadm: not found")) is None
        assert fact.parse(Result(1, "", "sudo: kubeadm: command not found")) is None
    with pytest.raises(ValueError):
        kubelet_version.parse(ok("Kubelet 1.29\n"))
    with pytest.raises(ValueError):
        kubeadm_version.parse(ok("kubeadm version: &version.Info{...}\n"))


def test_kube_state() -> None:
    assert kube_state.argv[:4] == ("stat", "-c", "%n", "--")
    nothing = Result(
        1,
        "",
        "".join(
            f"stat: cannot statx '{p}': No such file or directory\n" for p in kube_state.argv[4:]
        ),
    )
    state = kube_state.parse(nothing)
    assert (state.role, state.joined, state.kubelet_configured) == (None, False, False)
    worker = kube_state.parse(
        Result(1, f"{KUBELET_CONF}\n{KUBELET_CONFIG}\n", "stat: ...: No such file or directory\n")
    )
    assert (worker.role, worker.kubelet_configured) == ("worker", True)
    master = kube_state.parse(
        ok(f"{KUBELET_CONF}\n{KUBELET_CONFIG}\n{APISERVER_MANIFEST}\n{ADMIN_CONF}\n")
    )
    assert (master.role, master.joined) == ("control-plane", True)
    with pytest.raises(UnexpectedExit):
        kube_state.parse(Result(1, "", "stat: cannot statx 'x': Permission denied\n"))


def test_nodes() -> None:
    nodes = parse_nodes((FIXTURES / "kubectl-get-nodes.json").read_text())
    assert [n.name for n in nodes] == ["master-0", "worker-0", "worker-1"]
    master, cordoned, not_ready = nodes
    assert master.roles == ("control-plane",)
    assert master.address() == "10.0.0.10" and master.address("Hostname") == "master-0"
    assert (master.ready, master.unschedulable, master.kubelet_version) == (True, False, "v1.29.3")
    assert cordoned.roles == ("ingress", "worker")
    assert (cordoned.ready, cordoned.unschedulable) == (None, True)
    assert (not_ready.roles, not_ready.ready, not_ready.kubelet_version) == ((), False, "v1.28.8")
    with pytest.raises(ValueError):
        parse_nodes('{"kind": "Pod"}')


def test_etcd_members_keep_uint64_ids_exact() -> None:
    # Captured from etcdctl 3.4.23 against a real etcd; the table output is the same list.
    members = parse_etcd_members((FIXTURES / "etcd-member-list.json").read_text())
    table = (FIXTURES / "etcd-member-list.table").read_text().splitlines()
    assert [m.id_hex for m in members] == [line.split(",")[0] for line in table]
    first, unstarted = members
    assert first.id == 13668033151171901709  # > 2**53: a float would have rounded it
    assert int(float(first.id)) != first.id  # which is why the IDs must never pass a float
    assert (first.name, first.started, first.client_urls) == (
        "m0",
        True,
        ("http://127.0.0.1:23791",),
    )
    assert (unstarted.name, unstarted.started, unstarted.is_learner) == ("", False, False)
    with pytest.raises(ValueError):
        parse_etcd_members('{"members": [{"ID": 1.5e19}]}')
