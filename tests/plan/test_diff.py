"""The planner is pure: Clusterfile + live state -> steps with reasons and dependencies."""

from __future__ import annotations

from pathlib import Path

import pytest

from sealer.errors import PlanError
from sealer.facts.hosts import HostsEntry
from sealer.facts.identity import ClusterIdentity
from sealer.offline_package import LocalPackage
from sealer.plan.diff import Plan, PlannedStep, make_plan
from sealer.plan.kinds import StepKind
from sealer.plan.lb import desired_lb_config
from sealer.plan.payloads import (
    CleanPayload,
    DeleteNodePayload,
    DrainPayload,
    HostsPayload,
    IdentityPayload,
    InitPayload,
    IpvsPayload,
    JoinMasterPayload,
    Payload,
)
from sealer.plan.state import ClusterState, LiveHost, LiveNode
from sealer.spec.model import Cluster
from tests.clusters import DOMAIN, IDENTITY, VERSION, M, N, cluster

SHA = "a" * 64
MASTER_STATE = (
    "/etc/kubernetes/manifests/kube-apiserver.yaml",
    "/etc/kubernetes/manifests/etcd.yaml",
    "/var/lib/etcd/member",
    "/etc/kubernetes/admin.conf",
    "/var/lib/sealer/cluster.json",
)
PKG = LocalPackage(Path("/tmp/kube.tar.gz"), "kube1.29.3.tar.gz", SHA, 1, VERSION, "amd64")


def bare(address: str) -> LiveHost:
    return LiveHost(address, reachable=True, hostname=f"h{address.rsplit('.', 1)[1]}")


def installed(c: Cluster, address: str) -> LiveHost:
    """A host fully in shape for cluster ``c``."""
    spec = c.spec
    if address in spec.node_addresses:
        entries = (HostsEntry(spec.vip, (DOMAIN,)),)
        role = "worker"
        state: tuple[str, ...] = ("/var/lib/sealer/cluster.json",)
    else:
        entries = (HostsEntry(address, (DOMAIN,)),)
        role = "control-plane"
        state = MASTER_STATE
    return LiveHost(
        address,
        reachable=True,
        hostname=f"h{address.rsplit('.', 1)[1]}",
        package_sha256=SHA,
        kubeadm_version=VERSION,
        kubelet_configured=True,
        role=role,  # type: ignore[arg-type]
        hosts_entries=entries,
        lb_config=desired_lb_config(c) if address in spec.node_addresses else None,
        lb_active=address in spec.node_addresses,
        cluster_state=state,
        etcd_data=role == "control-plane",
        identity=IDENTITY,
    )


def node(address: str, master: bool, created: str = "2026-01-01T00:00:00Z") -> LiveNode:
    roles = ("control-plane",) if master else ()
    return LiveNode(f"h{address.rsplit('.', 1)[1]}", address, roles, VERSION, True, created)


def running(c: Cluster, extra: list[str] = (), extra_masters: list[str] = ()) -> ClusterState:  # type: ignore[assignment]
    hosts = {a: installed(c, a) for a in c.spec.all_addresses}
    nodes = [node(a, a in c.spec.master_addresses) for a in c.spec.all_addresses]
    nodes += [node(a, False, "2026-02-01T00:00:00Z") for a in extra]
    nodes += [node(a, True, "2026-02-01T00:00:00Z") for a in extra_masters]
    gone = {a: bare(a) for a in [*extra, *extra_masters]}
    members = tuple(hosts[a].hostname for a in c.spec.master_addresses)
    return ClusterState(
        hosts,
        initialized=True,
        api_host=c.spec.master0,
        nodes=tuple(nodes),
        etcd_members=members,
        extra_hosts=gone,
        identity=IDENTITY,
        identity_in_cluster=True,
    )


def ids(plan: Plan) -> list[str]:
    return [s.id for s in plan.steps]


def deps(plan: Plan, sid: str) -> set[str]:
    return set(planned(plan, sid).after)


def planned(plan: Plan, sid: str) -> PlannedStep:
    return next(s for s in plan.steps if s.id == sid)


def test_fresh_cluster_plans_every_step_with_dependencies_not_phases() -> None:
    c = cluster()
    live = ClusterState({a: bare(a) for a in c.spec.all_addresses})
    plan = make_plan(c, live, PKG)
    steps = set(ids(plan))
    for a in c.spec.all_addresses:
        assert f"distribute@{a}" in steps and f"hosts@{a}" in steps
        # the install waits for the copy; the copy for nothing but its relay source
        assert deps(plan, f"install@{a}") == {f"distribute@{a}"}
    for n in N:
        assert f"ipvs@{n}" in steps
        # a node joins as soon as init and its own prerequisites are done
        assert deps(plan, f"join-node@{n}") == {
            f"init@{M[0]}",
            f"install@{n}",
            f"hosts@{n}",
            f"ipvs@{n}",
        }
    assert deps(plan, f"init@{M[0]}") == {f"install@{M[0]}", f"hosts@{M[0]}"}
    # control-plane joins go one at a time
    assert f"join-master@{M[1]}" in deps(plan, f"join-master@{M[2]}")
    assert f"init@{M[0]}" in deps(plan, f"join-master@{M[1]}")
    # a master that has not joined resolves the API domain to master0 until it joins, and to
    # itself once joined; a node resolves it to the VIP
    hosts_m1 = planned(plan, f"hosts@{M[1]}")
    assert M[0] in hosts_m1.why
    assert hosts_m1.payload == HostsPayload((HostsEntry(M[0], (DOMAIN,)),))
    assert planned(plan, f"join-master@{M[1]}").payload == JoinMasterPayload(
        (HostsEntry(M[1], (DOMAIN,)),)
    )
    assert planned(plan, f"hosts@{M[0]}").payload == HostsPayload((HostsEntry(M[0], (DOMAIN,)),))
    assert planned(plan, f"hosts@{N[0]}").payload == HostsPayload(
        (HostsEntry(c.spec.vip, (DOMAIN,)),)
    )
    assert planned(plan, f"init@{M[0]}").payload == InitPayload(reset_half_done=False)
    assert planned(plan, f"ipvs@{N[0]}").payload == IpvsPayload(desired_lb_config(c), tuple(M))
    # the kind is the payload's; the id is the kind's name at the host
    assert [s.kind for s in plan.steps if s.host == N[0]] == [
        StepKind.IPVS,
        StepKind.DISTRIBUTE,
        StepKind.INSTALL,
        StepKind.HOSTS,
        StepKind.JOIN_NODE,
    ]
    # every dependency refers to an earlier step: the order is topological
    seen: set[str] = set()
    for step in plan.steps:
        assert set(step.after) <= seen
        seen.add(step.id)


def test_unchanged_cluster_gives_an_empty_plan() -> None:
    c = cluster()
    plan = make_plan(c, running(c), PKG)
    assert plan.empty, ids(plan)


def test_adding_a_node_plans_only_that_nodes_steps() -> None:
    before = cluster()
    after = cluster(nodes=[*N, "10.9.0.7"])
    live = running(before)
    hosts = dict(live.hosts)
    hosts["10.9.0.7"] = bare("10.9.0.7")
    live = ClusterState(hosts, True, M[0], live.nodes, etcd_members=live.etcd_members)
    plan = make_plan(after, live, PKG)
    assert {s.host for s in plan.steps} == {"10.9.0.7"}
    assert ids(plan) == [
        "ipvs@10.9.0.7",
        "distribute@10.9.0.7",
        "install@10.9.0.7",
        "hosts@10.9.0.7",
        "join-node@10.9.0.7",
    ]
    assert "init@" not in " ".join(deps(plan, "join-node@10.9.0.7"))


def test_removing_a_node_drains_cleans_and_deletes_it() -> None:
    c = cluster()
    plan = make_plan(c, running(c, extra=["10.9.0.8"]), PKG)
    assert ids(plan) == ["drain@10.9.0.8", "clean@10.9.0.8", "delete-node@10.9.0.8"]
    # the node names come from the cluster's Node objects; a node has no etcd member
    assert [s.payload for s in plan.steps] == [
        DrainPayload("h8"),
        CleanPayload(remove_etcd_member=False),
        DeleteNodePayload("h8"),
    ]
    assert deps(plan, "clean@10.9.0.8") == {"drain@10.9.0.8"}
    assert deps(plan, "delete-node@10.9.0.8") == {"clean@10.9.0.8"}


def test_removing_an_unreachable_node_deletes_it_and_warns() -> None:
    c = cluster()
    live = running(c, extra=["10.9.0.8"])
    gone = {"10.9.0.8": LiveHost("10.9.0.8", reachable=False, error="connection refused")}
    live = ClusterState(
        live.hosts, True, M[0], live.nodes, etcd_members=live.etcd_members, extra_hosts=gone
    )
    plan = make_plan(c, live, PKG)
    assert ids(plan) == ["drain@10.9.0.8", "delete-node@10.9.0.8"]
    assert "connection refused" in plan.warnings[0]


def test_removing_a_master_rewrites_every_nodes_load_balancer_first() -> None:
    big = cluster(masters=[*M, "10.9.0.9"])
    small = cluster()
    live = running(big)
    hosts = {a: h for a, h in live.hosts.items() if a != "10.9.0.9"}
    live = ClusterState(
        hosts,
        True,
        M[0],
        live.nodes,
        etcd_members=live.etcd_members,
        extra_hosts={"10.9.0.9": installed(big, "10.9.0.9")},
    )
    plan = make_plan(small, live, PKG)
    assert {f"ipvs@{n}" for n in N} <= set(ids(plan))
    assert {f"ipvs@{n}" for n in N} <= deps(plan, "drain@10.9.0.9")
    lb = next(s for s in plan.steps if s.id == f"ipvs@{N[0]}")
    assert "out of date" in lb.why


def without_master0() -> tuple[Cluster, ClusterState]:
    """The file drops master0; the others serve the cluster (observe asks only the file's)."""
    c = cluster()
    live = running(c)
    smaller = cluster(masters=M[1:])
    hosts = {a: h for a, h in live.hosts.items() if a != M[0]}
    state = ClusterState(
        hosts,
        True,
        M[1],
        live.nodes,
        etcd_members=live.etcd_members,
        extra_hosts={M[0]: live.hosts[M[0]]},
        identity=IDENTITY,
        identity_in_cluster=True,
    )
    return smaller, state


def test_removing_master0_is_planned_through_the_masters_that_stay() -> None:
    smaller, live = without_master0()
    plan = make_plan(smaller, live, PKG)
    assert ids(plan) == [
        *(f"ipvs@{n}" for n in N),
        f"snapshot@{M[1]}",
        f"drain@{M[0]}",
        f"clean@{M[0]}",
        f"delete-node@{M[0]}",
    ]
    assert deps(plan, f"drain@{M[0]}") == {f"snapshot@{M[1]}", *(f"ipvs@{n}" for n in N)}
    clean = next(s for s in plan.steps if s.kind is StepKind.CLEAN)
    assert clean.payload == CleanPayload(remove_etcd_member=True)
    assert "etcd checked healthy" in clean.why
    # the backends left are the masters that stay
    lb = planned(plan, f"ipvs@{N[0]}").payload
    assert isinstance(lb, IpvsPayload) and lb.backends == tuple(M[1:])


def test_masters_are_removed_one_at_a_time_after_one_snapshot() -> None:
    c = cluster()
    live = running(c)
    one = cluster(masters=M[:1])
    hosts = {a: h for a, h in live.hosts.items() if a not in M[1:]}
    state = ClusterState(
        hosts,
        True,
        M[0],
        live.nodes,
        etcd_members=live.etcd_members,
        extra_hosts={m: live.hosts[m] for m in M[1:]},
        identity=IDENTITY,
        identity_in_cluster=True,
    )
    plan = make_plan(one, state, PKG)
    assert [s.id for s in plan.steps if s.name == "snapshot"] == [f"snapshot@{M[0]}"]
    assert f"delete-node@{M[1]}" in deps(plan, f"drain@{M[2]}")
    assert f"snapshot@{M[0]}" in deps(plan, f"drain@{M[1]}")


def test_an_unreachable_master_leaving_the_file_has_its_etcd_member_removed() -> None:
    c = cluster()
    live = running(c)
    smaller = cluster(masters=M[:2])
    hosts = {a: h for a, h in live.hosts.items() if a != M[2]}
    down = LiveHost(M[2], reachable=False, error=f"{M[2]}: no route to host")
    state = ClusterState(
        hosts,
        True,
        M[0],
        live.nodes,
        etcd_members=live.etcd_members,
        extra_hosts={M[2]: down},
        identity=IDENTITY,
        identity_in_cluster=True,
    )
    plan = make_plan(smaller, state, PKG)
    removal = [s.id for s in plan.steps if s.host == M[2]]
    assert removal == [f"drain@{M[2]}", f"remove-member@{M[2]}", f"delete-node@{M[2]}"]
    assert deps(plan, f"delete-node@{M[2]}") == {f"remove-member@{M[2]}"}
    assert "sealer clean" in plan.warnings[0] and "no route to host" in plan.warnings[0]


def test_removing_every_running_master_is_refused() -> None:
    c = cluster()
    live = running(c)
    fresh = cluster(masters=["10.9.0.20"])
    hosts = {**{a: h for a, h in live.hosts.items() if a not in M}, "10.9.0.20": bare("10.9.0.20")}
    # the file's only master holds nothing: the nodes still belong to the running cluster
    with pytest.raises(PlanError, match="will not create a new cluster and take those nodes"):
        make_plan(fresh, ClusterState(hosts), PKG)
    # and a cluster that is read, but the file keeps none of its masters
    with pytest.raises(PlanError, match="removing every running master"):
        make_plan(fresh, ClusterState(hosts, True, "10.9.0.20", live.nodes), PKG)


def test_an_unreachable_host_of_the_file_stops_the_plan() -> None:
    c = cluster()
    live = running(c)
    hosts = dict(live.hosts)
    hosts[N[0]] = LiveHost(N[0], reachable=False, error="10.9.0.5: connection refused")
    with pytest.raises(PlanError, match="connection refused"):
        make_plan(
            c, ClusterState(hosts, True, M[0], live.nodes, etcd_members=live.etcd_members), PKG
        )


def test_hosts_drift_and_a_changed_package_are_fixed_on_that_host_only() -> None:
    c = cluster()
    live = running(c)
    hosts = dict(live.hosts)
    h = hosts[N[1]]
    hosts[N[1]] = LiveHost(**{**h.__dict__, "hosts_entries": (HostsEntry("1.2.3.4", (DOMAIN,)),)})
    m = hosts[M[1]]
    hosts[M[1]] = LiveHost(**{**m.__dict__, "package_sha256": "b" * 64})
    plan = make_plan(
        c, ClusterState(hosts, True, M[0], live.nodes, etcd_members=live.etcd_members), PKG
    )
    assert ids(plan) == [f"distribute@{M[1]}", f"install@{M[1]}", f"hosts@{N[1]}"]
    assert "1.2.3.4" in plan.steps[2].why


def test_masters_named_by_dns_names_get_addresses_in_etc_hosts() -> None:
    names = ["m1.lab.example", "m2.lab.example"]
    c = cluster(masters=names, nodes=[])
    resolved = {names[0]: "10.9.0.2", names[1]: "10.9.0.3"}
    hosts = {a: LiveHost(a, reachable=True, hostname=a.split(".")[0]) for a in names}
    plan = make_plan(c, ClusterState(hosts, resolved=resolved), PKG)
    # /etc/hosts maps a name to an address: the API domain goes to master0's address until
    # the master joined, then to its own
    assert planned(plan, f"hosts@{names[1]}").payload == HostsPayload(
        (HostsEntry("10.9.0.2", (DOMAIN,)),)
    )
    assert planned(plan, f"join-master@{names[1]}").payload == JoinMasterPayload(
        (HostsEntry("10.9.0.3", (DOMAIN,)),)
    )
    assert planned(plan, f"hosts@{names[0]}").payload == HostsPayload(
        (HostsEntry("10.9.0.2", (DOMAIN,)),)
    )


def test_a_master_whose_join_stopped_before_etcd_is_joined_again() -> None:
    c = cluster()
    live = running(c)
    members = tuple(m for m in live.etcd_members if m != live.hosts[M[2]].hostname)
    half = ClusterState(live.hosts, True, M[0], live.nodes, etcd_members=members)
    plan = make_plan(c, half, PKG)
    # it resolves the API through master0 again until it has joined
    assert ids(plan) == [f"hosts@{M[2]}", f"join-master@{M[2]}"]
    assert "no etcd member" in plan.steps[1].why
    assert deps(plan, f"join-master@{M[2]}") == {f"hosts@{M[2]}"}


def created_with(c: Cluster) -> dict[str, object]:
    net = c.spec.network
    return {
        "kind": "ClusterConfiguration",
        "controlPlaneEndpoint": f"{net.api_server_domain}:6443",
        "networking": {
            "podSubnet": net.pod_cidr,
            "serviceSubnet": net.service_cidr,
            "dnsDomain": net.dns_domain,
        },
        "apiServer": {"certSANs": ["127.0.0.1", net.api_server_domain, *M, c.spec.vip]},
    }


def with_network(c: Cluster, **network: object) -> Cluster:
    data = c.model_dump(by_alias=True, exclude_none=True, mode="json")
    data["spec"]["network"].update(network)
    data["spec"]["ssh"] = {"privateKey": "/k"}
    return Cluster.model_validate(data)


def test_settings_fixed_at_creation_cannot_change_on_a_running_cluster() -> None:
    c = cluster()
    live = running(c)
    live = ClusterState(
        live.hosts,
        True,
        M[0],
        live.nodes,
        etcd_members=live.etcd_members,
        created_with=created_with(c),
    )
    assert make_plan(c, live, PKG).empty
    changed = with_network(c, podCIDR="100.96.0.0/12")
    with pytest.raises(PlanError, match=r"spec.network.podCIDR 100.64.0.0/10 -> 100.96.0.0/12"):
        make_plan(changed, live, PKG)
    extra = with_network(c, certSANs=["api.example.com"])
    plan = make_plan(extra, live, PKG)
    assert plan.empty and "certs renew" in plan.warnings[0]


# -- a cluster that exists is never re-initialised ----------------------------------------------


def powered_off(c: Cluster) -> ClusterState:
    """Every master still holds its files, but no API server or etcd answers."""
    live = running(c)
    why = "`kubectl` exited with status 1: connection refused"
    return ClusterState(live.hosts, unread={m: why for m in M}, identity=IDENTITY)


def test_a_cluster_whose_control_plane_is_down_is_refused_not_re_initialised() -> None:
    c = cluster()
    with pytest.raises(PlanError) as caught:
        make_plan(c, powered_off(c), PKG)
    message = str(caught.value)
    assert "a cluster exists" in message and "changes nothing" in message
    for m in M:
        assert m in message
    assert "connection refused" in message
    assert "etcd data" in message and IDENTITY.uid in message
    assert "sealer clean" in message


def test_one_master_with_etcd_data_is_enough_to_refuse() -> None:
    c = cluster()
    hosts = {a: bare(a) for a in c.spec.all_addresses}
    hosts[M[2]] = LiveHost(**{**bare(M[2]).__dict__, "cluster_state": ("/var/lib/etcd/member",)})
    with pytest.raises(PlanError, match=f"{M[2]} hold etcd data"):
        make_plan(c, ClusterState(hosts), PKG)


def test_sealers_own_init_that_stopped_half_way_is_reset_and_done_again() -> None:
    c = cluster()
    hosts = {a: bare(a) for a in c.spec.all_addresses}
    m0 = bare(M[0]).__dict__
    hosts[M[0]] = LiveHost(
        **{**m0, "cluster_state": MASTER_STATE[:2], "init_started": True, "etcd_data": True}
    )
    plan = make_plan(c, ClusterState(hosts, unread={M[0]: "refused"}), PKG)
    init = next(s for s in plan.steps if s.kind is StepKind.INIT)
    assert init.payload == InitPayload(reset_half_done=True)
    assert "stopped half-way" in init.why
    # the same marker with another master holding state: refused
    hosts[M[1]] = LiveHost(**{**bare(M[1]).__dict__, "cluster_state": MASTER_STATE[2:3]})
    with pytest.raises(PlanError, match="a cluster exists"):
        make_plan(c, ClusterState(hosts), PKG)


def test_a_fresh_cluster_gets_the_identity_it_was_given() -> None:
    c = cluster()
    plan = make_plan(c, ClusterState({a: bare(a) for a in c.spec.all_addresses}), PKG, IDENTITY)
    assert plan.identity == IDENTITY
    assert not [s for s in plan.steps if s.name == "identity"]  # init and joins record it


def test_only_master0_down_plans_through_another_master_and_never_init() -> None:
    c = cluster(nodes=[*N, "10.9.0.7"])
    live = running(cluster())
    hosts = dict(live.hosts)
    hosts["10.9.0.7"] = bare("10.9.0.7")
    live = ClusterState(
        hosts,
        True,
        M[1],
        live.nodes,
        etcd_members=live.etcd_members,
        unread={M[0]: "refused"},
        identity=IDENTITY,
        identity_in_cluster=True,
    )
    plan = make_plan(c, live, PKG)
    assert {s.host for s in plan.steps} == {"10.9.0.7"}
    assert "init" not in {s.name for s in plan.steps}


def test_a_host_of_another_cluster_is_refused() -> None:
    c = cluster()
    live = running(c)
    hosts = dict(live.hosts)
    other = ClusterIdentity("other", "11111111-2222-4333-8444-555555555555")
    hosts[N[0]] = LiveHost(**{**hosts[N[0]].__dict__, "identity": other})
    with pytest.raises(PlanError, match=r"10\.9\.0\.5 belongs to another cluster, 'other'"):
        make_plan(c, ClusterState(hosts, True, M[0], live.nodes, identity=IDENTITY), PKG)
    # same name, another uid: another cluster too
    twin = ClusterIdentity("t", "11111111-2222-4333-8444-555555555555")
    hosts[N[0]] = LiveHost(**{**hosts[N[0]].__dict__, "identity": twin})
    with pytest.raises(PlanError, match="another cluster"):
        make_plan(c, ClusterState(hosts, True, M[0], live.nodes, identity=IDENTITY), PKG)


def test_a_renamed_clusterfile_is_refused() -> None:
    c = cluster()
    live = running(c)
    renamed = Cluster.model_validate({**c.model_dump(by_alias=True), "metadata": {"name": "u"}})
    with pytest.raises(PlanError, match=r"metadata\.name: t"):
        make_plan(renamed, live, PKG)


def test_a_cluster_created_before_identities_gets_them_recorded() -> None:
    c = cluster()
    live = running(c)
    hosts = {a: LiveHost(**{**h.__dict__, "identity": None}) for a, h in live.hosts.items()}
    old = ClusterState(hosts, True, M[0], live.nodes, etcd_members=live.etcd_members)
    old = ClusterState(**{**old.__dict__, "identity_in_cluster": False})
    plan = make_plan(c, old, PKG, IDENTITY)
    assert ids(plan) == [f"identity@{a}" for a in c.spec.all_addresses]
    # master0 serves the API: it writes the map
    assert plan.steps[0].payload == IdentityPayload(in_cluster=True)
    assert all(s.payload == IdentityPayload(in_cluster=False) for s in plan.steps[1:])
    assert IDENTITY.uid in plan.steps[0].why


def test_a_half_done_join_with_its_etcd_member_listed_removes_the_member_first() -> None:
    c = cluster()
    live = running(c)
    nodes = tuple(n for n in live.nodes if n.address != M[2])
    half = ClusterState(
        live.hosts, True, M[0], nodes, etcd_members=live.etcd_members, identity=IDENTITY
    )
    plan = make_plan(c, half, PKG)
    join = planned(plan, f"join-master@{M[2]}")
    assert join.payload == JoinMasterPayload(
        (HostsEntry(M[2], (DOMAIN,)),), remove_etcd_member=True
    )
    # a member added but never started has no name: found by its peer URL
    unnamed = ClusterState(
        live.hosts,
        True,
        M[0],
        nodes,
        etcd_members=live.etcd_members[:2],
        etcd_peer_urls=(f"https://{M[2]}:2380",),
        identity=IDENTITY,
    )
    join = next(s for s in make_plan(c, unnamed, PKG).steps if s.kind is StepKind.JOIN_MASTER)
    assert isinstance(join.payload, JoinMasterPayload) and join.payload.remove_etcd_member


def test_dependencies_are_listed_once() -> None:
    c = cluster()
    plan = make_plan(c, ClusterState({a: bare(a) for a in c.spec.all_addresses}), PKG)
    for step in plan.steps:
        assert len(step.after) == len(set(step.after)), step


def test_a_load_balancer_installed_before_init_is_rewritten_with_the_new_ca() -> None:
    """A run stopped after ipvs@node but before init left the node trusting a CA that the
    next init does not use: its load balancer is installed again."""
    c = cluster()
    hosts = {a: bare(a) for a in c.spec.all_addresses}
    hosts[N[0]] = LiveHost(
        **{**bare(N[0]).__dict__, "lb_config": desired_lb_config(c), "lb_active": True}
    )
    plan = make_plan(c, ClusterState(hosts), PKG)
    lb = next(s for s in plan.steps if s.id == f"ipvs@{N[0]}")
    assert "CA" in lb.why
    assert f"ipvs@{N[0]}" in deps(plan, f"join-node@{N[0]}")


def test_a_master_with_a_node_but_no_etcd_member_points_at_master0_until_it_joins() -> None:
    """Half-joined: its Node object exists, its etcd member does not. The planner decides it
    has not joined, so its /etc/hosts block goes back to master0 (and the join puts its own
    address back once it has joined)."""
    c = cluster()
    live = running(c)
    members = tuple(m for m in live.etcd_members if m != live.hosts[M[2]].hostname)
    plan = make_plan(c, ClusterState(live.hosts, True, M[0], live.nodes, etcd_members=members), PKG)
    assert live.node_at(M[2]) is not None
    assert planned(plan, f"hosts@{M[2]}").payload == HostsPayload((HostsEntry(M[0], (DOMAIN,)),))
    join = planned(plan, f"join-master@{M[2]}").payload
    assert isinstance(join, JoinMasterPayload)
    assert join.hosts_after_join == (HostsEntry(M[2], (DOMAIN,)),)
    assert not join.remove_etcd_member


def test_diff_json_keeps_the_flags_words_of_before_the_payloads() -> None:
    """``sealer diff --output json`` shows each step as it did when steps carried flags."""
    c = cluster()
    live = running(c)
    nodes = tuple(n for n in live.nodes if n.address != M[2])
    half = ClusterState(
        live.hosts, True, M[0], nodes, etcd_members=live.etcd_members, identity=IDENTITY
    )
    plan = make_plan(c, half, PKG)
    join = planned(plan, f"join-master@{M[2]}")
    assert join.to_dict() == {
        "name": "join-master",
        "host": M[2],
        "why": join.why,
        "after": list(join.after),
        "flags": ["remove-etcd-member"],
        "id": f"join-master@{M[2]}",
    }
    assert planned(plan, f"hosts@{M[2]}").to_dict()["flags"] == []
    assert list(planned(plan, f"hosts@{M[2]}").to_dict()) == [
        "name",
        "host",
        "why",
        "after",
        "flags",
        "id",
    ]
    flags: dict[Payload, list[str]] = {
        InitPayload(reset_half_done=True): ["reset-half-done-init"],
        IdentityPayload(in_cluster=True): ["configmap"],
        CleanPayload(remove_etcd_member=True): ["remove-etcd-member"],
        CleanPayload(): [],
    }
    for payload, words in flags.items():
        assert PlannedStep(payload, M[0], "why").to_dict()["flags"] == words
