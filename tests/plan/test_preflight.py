"""Preflight (pure): every host problem at once, each naming its check, hosts and fix; the
prepare step only for what sealer can fix; nothing on a healthy running cluster."""

from __future__ import annotations

from dataclasses import replace

import pytest

from sealer.facts.preflight import DiskFree, HostPreflight
from sealer.facts.system import OsRelease
from sealer.plan.diff import make_plan
from sealer.plan.kinds import StepKind
from sealer.plan.payloads import PreparePayload
from sealer.plan.preflight import Finding, run_preflight
from sealer.plan.state import ClusterState, LiveHost
from sealer.spec.model import Cluster
from tests.clusters import M, N, cluster
from tests.plan.test_diff import PKG, installed, running

M0, M1 = M[0], M[1]
N0, N1 = N[0], N[1]
GOOD = HostPreflight(
    swaps=(),
    modules=frozenset({"overlay", "br_netfilter", "nf_tables"}),
    sysctls=(("net.bridge.bridge-nf-call-iptables", "1"), ("net.ipv4.ip_forward", "1")),
    listening=((22, "sshd (pid 30)"),),
    machine_id=None,
    clock_skew=0.2,
    clock_uncertainty=0.05,
    disk=DiskFree(50 * 1024**3, 50 * 1024**3),
    cgroup_version=2,
    commands=tuple(
        (c, f"/usr/bin/{c}") for c in ("tar", "sha256sum", "python3", "nft", "conntrack")
    ),
    runtimes=(),
)
DEBIAN = OsRelease("debian", "12", "Debian GNU/Linux 12 (bookworm)")


def good(address: str, **changes: object) -> HostPreflight:
    return replace(GOOD, **{"machine_id": f"id-{address}", **changes})  # type: ignore[arg-type]


def fresh_host(address: str, **changes: object) -> LiveHost:
    return LiveHost(
        address,
        reachable=True,
        hostname=f"h{address.rsplit('.', 1)[1]}",
        os=DEBIAN,
        arch="amd64",
        preflight=good(address, **changes),
    )


def fresh(c: Cluster, **hosts: LiveHost) -> ClusterState:
    found = {a: fresh_host(a) for a in c.spec.all_addresses}
    found.update({k.replace("_", "."): v for k, v in hosts.items()})
    return ClusterState(found)


def with_host(state: ClusterState, host: LiveHost) -> ClusterState:
    return replace(state, hosts={**state.hosts, host.address: host})


def checks(findings: tuple[Finding, ...]) -> list[tuple[str, tuple[str, ...], str]]:
    return [(f.check, f.hosts, f.severity) for f in findings]


def test_fresh_healthy_hosts_have_no_finding_and_no_prepare_step() -> None:
    c = cluster()
    plan = make_plan(c, fresh(c), PKG)
    assert plan.preflight.findings == ()
    assert StepKind.PREPARE not in {s.kind for s in plan.steps}


def test_a_busy_port_and_a_duplicate_hostname_are_both_reported_at_once() -> None:
    c = cluster()
    live = fresh(c)
    busy = ((22, "sshd (pid 30)"), (6443, "python3 (pid 812)"))
    live = with_host(live, fresh_host(M0, listening=busy))
    live = with_host(live, replace(fresh_host(N1), hostname=live.hosts[N0].hostname.upper()))
    plan = make_plan(c, live, PKG)
    assert checks(plan.preflight.errors) == [
        ("ports", (M0,), "error"),
        ("hostname", (N0, N1), "error"),
    ]
    port, name = plan.preflight.errors
    assert port.problem == "port 6443 is in use by python3 (pid 812); this master needs it"
    assert "6443" in port.fix
    assert name.problem == "2 hosts have the same hostname 'h5'"
    assert "hostnamectl" in name.fix


def test_nodes_need_the_kubelet_port_and_the_vip_port() -> None:
    c = cluster()
    busy = ((6443, ""), (10250, ""), (2379, ""))
    found = run_preflight(c, with_host(fresh(c), fresh_host(N0, listening=busy)), PKG)
    assert [f.problem for f in found.findings] == [
        "port 10250 is in use; this node needs it",
        "port 6443 is in use; this node needs it",
    ]


def test_re_applying_on_a_running_cluster_does_not_trip_over_its_own_ports() -> None:
    c = cluster()
    live = running(c)
    master_ports = tuple((p, "x") for p in (6443, 2379, 2380, 10250, 10257, 10259))
    hosts = {
        a: replace(
            installed(c, a),
            os=DEBIAN,
            arch="amd64",
            preflight=good(a, listening=master_ports if a in M else ((10250, "kubelet"),)),
        )
        for a in c.spec.all_addresses
    }
    plan = make_plan(c, replace(live, hosts=hosts), PKG)
    assert plan.preflight.findings == ()
    assert plan.empty


def test_swap_module_and_sysctl_are_warnings_fixed_by_a_prepare_step_before_distribute() -> None:
    c = cluster()
    sysctls = (("net.ipv4.ip_forward", "0"),)
    live = with_host(
        fresh(c),
        fresh_host(N0, swaps=("/swapfile",), modules=frozenset({"overlay"}), sysctls=sysctls),
    )
    plan = make_plan(c, live, PKG)
    assert checks(plan.preflight.findings) == [
        ("swap", (N0,), "warning"),
        ("kernel-modules", (N0,), "warning"),
        ("sysctls", (N0,), "warning"),
    ]
    assert plan.preflight.errors == ()
    prepare = next(s for s in plan.steps if s.kind is StepKind.PREPARE)
    assert prepare.host == N0
    assert prepare.payload == PreparePayload(
        True, ("br_netfilter",), ("net.ipv4.ip_forward", "net.bridge.bridge-nf-call-iptables")
    )
    assert prepare.why == (
        "swap is on; kernel module(s) br_netfilter not loaded; "
        "net.ipv4.ip_forward, net.bridge.bridge-nf-call-iptables not 1"
    )
    # the copy (which may also wait for its relay source's copy) and the install wait for it
    distribute = next(s for s in plan.steps if s.id == f"distribute@{N0}")
    install = next(s for s in plan.steps if s.id == f"install@{N0}")
    assert distribute.after[0] == prepare.id
    assert install.after == (prepare.id, distribute.id)
    assert [s.host for s in plan.steps if s.kind is StepKind.PREPARE] == [N0]


def test_ignored_checks_neither_report_nor_prepare() -> None:
    c = cluster()
    live = with_host(fresh(c), fresh_host(N0, swaps=("/swapfile",), listening=((6443, ""),)))
    plan = make_plan(c, live, PKG, ignore_preflight=("swap", "ports"))
    assert plan.preflight.findings == ()
    assert StepKind.PREPARE not in {s.kind for s in plan.steps}
    assert plan.preflight.ignored == ("ports", "swap")
    data = c.model_dump(by_alias=True)
    data["spec"]["preflight"] = {"ignore": ["all"]}
    everything = Cluster.model_validate(data)
    assert run_preflight(everything, live, PKG).findings == ()


def test_the_other_checks_name_host_and_fix() -> None:
    c = cluster()
    live = fresh(c)
    live = with_host(live, fresh_host(M0, clock_skew=-95.0, cgroup_version=1))
    live = with_host(live, replace(fresh_host(M1, disk=DiskFree(0, 10)), arch="arm64"))
    no_nft = tuple(p for p in GOOD.commands if p[0] != "nft")
    live = with_host(
        live, fresh_host(N0, commands=no_nft, runtimes=(("kubelet", "/usr/bin/kubelet"),))
    )
    live = with_host(live, fresh_host(N1, machine_id=f"id-{N0}"))
    found = run_preflight(c, live, PKG).findings
    assert checks(found) == [
        ("clock", (M0,), "error"),
        ("disk", (M1,), "error"),
        ("disk", (M1,), "warning"),
        ("arch", (M1,), "error"),
        ("runtime", (N0,), "error"),
        ("commands", (N0,), "error"),
        ("machine-id", (N0, N1), "error"),
    ]
    by = {(f.check, f.severity): f for f in found}
    assert by["clock", "error"].problem.startswith("the clock is 95s behind")
    assert by["arch", "error"].problem == "the host is arm64, the package is for amd64"
    assert by["commands", "error"].problem.startswith("nft not found")
    assert (
        by["runtime", "error"].problem == "a kubelet sealer did not install is at /usr/bin/kubelet"
    )


@pytest.mark.parametrize(("version", "severity"), [("v1.29.3", None), ("v1.31.0", "warning")])
def test_cgroup_v1_matters_from_kubernetes_1_31(version: str, severity: str | None) -> None:
    data = cluster().model_dump(by_alias=True)
    data["spec"]["version"] = version
    c = Cluster.model_validate(data)
    live = with_host(fresh(c), fresh_host(M0, cgroup_version=1))
    found = [f.severity for f in run_preflight(c, live, PKG).findings if f.check == "cgroup"]
    assert found == ([severity] if severity else [])


def test_hosts_whose_facts_were_not_read_are_not_judged() -> None:
    c = cluster()
    live = with_host(fresh(c), replace(fresh_host(M0), preflight=None))
    assert run_preflight(c, live, PKG).findings == ()
