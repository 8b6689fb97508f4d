"""Builders for step tests: a Cluster, live state as tests/plan/test_diff.py builds it, a
Target on a :class:`FakeRemote`, and canned answers for the facts and probes steps read."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from sealer.facts.cluster import ETCDCTL
from sealer.facts.hosts import HostsEntry
from sealer.facts.identity import ClusterIdentity, cluster_identity_configmap
from sealer.facts.kube import KUBE_FILES, kube_state
from sealer.kube.pki import ClusterCA
from sealer.layout import CRI_SOCKET, KUBEADM_TOKEN_CONFIG_PATH, SEALER_KUBE_DIR
from sealer.offline_package import LocalPackage
from sealer.plan.access import host_access
from sealer.plan.lb import desired_lb_config
from sealer.plan.payloads import IpvsPayload, JoinMasterPayload
from sealer.plan.state import ClusterState, LiveHost, LiveNode
from sealer.spec.model import Cluster
from sealer.steps.target import Target
from tests.clusters import DOMAIN, GONE, IDENTITY, OTHER, VERSION, M, N, cluster
from tests.steps.fake_remote import Call, FakeRemote, Reply

__all__ = ["DOMAIN", "GONE", "IDENTITY", "OTHER", "VERSION", "M", "N", "cluster"]


def hostname(address: str) -> str:
    return f"h{address.rsplit('.', 1)[1]}"


def bare(address: str) -> LiveHost:
    return LiveHost(address, reachable=True, hostname=hostname(address))


def node(address: str, master: bool) -> LiveNode:
    roles = ("control-plane",) if master else ()
    return LiveNode(hostname(address), address, roles, VERSION, True, "2026-01-01T00:00:00Z")


def running(
    c: Cluster, joined: Iterable[str] | None = None, gone: Iterable[str] = ()
) -> ClusterState:
    """A cluster served by master0 whose ``joined`` hosts (default: all) are nodes of it;
    ``gone`` hosts are nodes of the cluster the file no longer lists."""
    spec = c.spec
    members = list(spec.all_addresses if joined is None else joined)
    hosts = {a: bare(a) for a in spec.all_addresses}
    nodes = [node(a, a in spec.master_addresses) for a in members]
    nodes += [node(a, False) for a in gone]
    return ClusterState(
        hosts,
        initialized=True,
        api_host=spec.master0,
        nodes=tuple(nodes),
        etcd_members=tuple(hostname(a) for a in spec.master_addresses if a in members),
        extra_hosts={a: bare(a) for a in gone},
        identity=IDENTITY,
        identity_in_cluster=True,
    )


def fresh(c: Cluster) -> ClusterState:
    return ClusterState({a: bare(a) for a in c.spec.all_addresses})


def make_target(
    fake: FakeRemote,
    c: Cluster,
    live: ClusterState,
    ca: ClusterCA | None = None,
    **options: Any,
) -> Target:
    addresses = [*c.spec.all_addresses, *live.extra_hosts]
    return Target(
        cluster=c,
        access={a: host_access(c, a) for a in addresses},
        live=live,
        conns=fake,
        ca_or_none=ca,
        identity_or_none=options.pop("identity", IDENTITY),
        **options,
    )


def package(tmp_path: Path, content: bytes = b"the package") -> LocalPackage:
    path = tmp_path / "kube1.29.3.tar.gz"
    path.write_bytes(content)
    sha = hashlib.sha256(content).hexdigest()
    return LocalPackage(path, path.name, sha, len(content), VERSION, "amd64")


# -- canned answers for the facts and probes steps use ---------------------------------------


def stat_reply(present: Iterable[str]) -> Reply:
    """``stat -c %n -- KUBE_FILES`` when ``present`` exist (exit 1 for the missing ones)."""
    found = [p for p in KUBE_FILES if p in set(present)]
    missing = [p for p in KUBE_FILES if p not in found]
    stderr = "".join(f"stat: cannot statx '{p}': No such file or directory\n" for p in missing)
    return Reply(1 if missing else 0, "".join(f"{p}\n" for p in found), stderr)


def kube_files(fake: FakeRemote, host: str, *present: str) -> None:
    fake.on(kube_state.argv, stat_reply(present), host=host, read=True)


READYZ_PREFIX = ("kubectl", "--kubeconfig", "/etc/kubernetes/admin.conf", "--server")


def readyz(fake: FakeRemote, host: str, *answers: int) -> None:
    """The host's own API server's /readyz: exit statuses in turn (the last repeated)."""
    replies = [Reply(status, "ok" if status == 0 else "", "") for status in answers]
    fake.on_prefix(READYZ_PREFIX, replies, host=host, read=True)


CRICTL_INFO = ("crictl", "--runtime-endpoint", CRI_SOCKET, "info")
RUNTIME_INFO = Path(__file__).parents[1] / "facts" / "fixtures" / "crictl-info.containerd.json"
NO_RUNTIME = Path(__file__).parents[1] / "facts" / "fixtures" / "crictl-info.no-socket.stderr"


def runtime(fake: FakeRemote, host: str, *answers: bool) -> None:
    """``crictl info`` on the host: the runtime answers (True) or its socket does not
    (False), in turn (the last repeated); containerd's real-shaped output."""
    replies = [
        Reply(0, RUNTIME_INFO.read_text(), "") if ok else Reply(1, "", NO_RUNTIME.read_text())
        for ok in answers or (True,)
    ]
    fake.on(CRICTL_INFO, replies, host=host, read=True)


def member(address: str, ident: int, named: bool = True) -> dict[str, Any]:
    data: dict[str, Any] = {"ID": ident, "peerURLs": [f"https://{address}:2380"]}
    if named:
        data["name"] = hostname(address)
        data["clientURLs"] = [f"https://{address}:2379"]
    return data


#: IDs beyond 2**53, as etcd makes them (exact ints in Python's json).
IDS = {a: 13668033151171901709 + i for i, a in enumerate([*M, GONE])}


def etcd(
    fake: FakeRemote,
    api: str,
    members: list[dict[str, Any]],
    unhealthy: Iterable[str] = (),
) -> None:
    """``member list`` and ``endpoint health --cluster`` on the API master."""
    listed = {"header": {"cluster_id": 1, "member_id": 2, "raft_term": 2}, "members": members}
    fake.on(
        [*ETCDCTL, "member", "list", "-w", "json"], host=api, read=True, stdout=json.dumps(listed)
    )
    bad = set(unhealthy)
    health = [
        {"endpoint": url, "health": url not in bad, **({"error": "deadline"} if url in bad else {})}
        for m in members
        for url in m.get("clientURLs", [])
    ]
    fake.on(
        [*ETCDCTL, "endpoint", "health", "--cluster", "-w", "json"],
        host=api,
        read=True,
        exit_status=1 if bad else 0,
        stdout=json.dumps(health),
        stderr="Error: unhealthy cluster\n" if bad else "",
    )


def member_remove(ident: int) -> list[str]:
    return [*ETCDCTL, "member", "remove", format(ident, "x")]


def configmap(fake: FakeRemote, host: str, found: ClusterIdentity | None) -> None:
    doc = {"kind": "ConfigMap", "data": found.to_dict()} if found else None
    fake.on(
        cluster_identity_configmap.argv,
        host=host,
        read=True,
        stdout=json.dumps(doc) if doc else "",
    )


def hosts_entries(address: str) -> tuple[HostsEntry, ...]:
    return (HostsEntry(address, (DOMAIN,)),)


def joining(address: str, *, remove_etcd_member: bool = False) -> JoinMasterPayload:
    """A master's join as the planner decides it: its own address in /etc/hosts once joined."""
    return JoinMasterPayload(hosts_entries(address), remove_etcd_member=remove_etcd_member)


def lb_payload(c: Cluster) -> IpvsPayload:
    """The load balancer as the planner decides it for ``c``: every master a backend."""
    return IpvsPayload(desired_lb_config(c), tuple(c.spec.master_addresses))


TOKEN_CREATE = (
    "kubeadm", "token", "create", "--config", KUBEADM_TOKEN_CONFIG_PATH, "--print-join-command",
)  # fmt: skip
RM_TOKEN_CONFIG = ("rm", "-f", "--", KUBEADM_TOKEN_CONFIG_PATH)


def join_command(ca: ClusterCA) -> Callable[[FakeRemote, Call], Reply]:
    """``kubeadm token create --config FILE --print-join-command``: the first token of the
    InitConfiguration in FILE (as kubeadm reads it), with the CA pin."""

    def reply(fake: FakeRemote, call: Call) -> Reply:
        path = call.argv[call.argv.index("--config") + 1]
        data = fake.file(call.host, path)
        if data is None:
            return Reply(1, "", f"unable to read config from {path!r}\n")
        token = YAML(typ="safe").load(data)["bootstrapTokens"][0]["token"]
        return Reply(
            stdout=f"kubeadm join {DOMAIN}:6443 --token {token} "
            f"--discovery-token-ca-cert-hash {ca.ca_cert_hash()} \n"
        )

    return reply


def join_credentials(fake: FakeRemote, api: str, ca: ClusterCA) -> None:
    fake.on(["mkdir", "-p", SEALER_KUBE_DIR], host=api)
    fake.on(TOKEN_CREATE, join_command(ca), host=api)
    fake.on(RM_TOKEN_CONFIG, rm, host=api)


# -- answers computed from the fake's files (commands that read or move them) ---------------


def sha256sum(fake: FakeRemote, call: Call) -> Reply:
    """``sha256sum [--] PATH`` of the in-memory file."""
    path = call.argv[-1]
    data = fake.file(call.host, path)
    if data is None:
        return Reply(1, "", f"sha256sum: {path}: No such file or directory\n")
    return Reply(0, f"{hashlib.sha256(data).hexdigest()}  {path}\n")


def mv(fake: FakeRemote, call: Call) -> Reply:
    """``mv -f -- SOURCE TARGET`` in the in-memory files."""
    source, target = call.argv[-2:]
    data = fake.file(call.host, source)
    if data is None:
        return Reply(1, "", f"mv: cannot stat '{source}': No such file or directory\n")
    fake.write(call.host, target, data)
    fake.remove(call.host, source)
    return Reply()


def rm(fake: FakeRemote, call: Call) -> Reply:
    """``rm -f -- PATH...`` in the in-memory files."""
    for path in call.argv[3:] if call.argv[2] == "--" else call.argv[2:]:
        fake.remove(call.host, path)
    return Reply()


def ls(fake: FakeRemote, call: Call) -> Reply:
    """``ls -1 -- DIR`` of the in-memory files."""
    return Reply(0, "".join(f"{name}\n" for name in fake.listdir(call.host, call.argv[-1])))
