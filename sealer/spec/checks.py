"""Cross-field rules of a Clusterfile that a single field cannot check.

Each check yields ``(path, message, severity)`` with the path of the entry at fault, so the
loader can point at its line. Checks are pure functions of a validated :class:`Cluster`.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator

from sealer.spec.addresses import expand_entry, is_ip
from sealer.spec.model import Cluster

__all__ = ["Finding", "cross_checks"]

PathT = tuple[str | int, ...]
Finding = tuple[PathT, str, str]


def _listed(cluster: Cluster) -> Iterator[tuple[PathT, str]]:
    for field in ("masters", "nodes"):
        for index, entry in enumerate(getattr(cluster.spec, field)):
            for address in expand_entry(entry):
                yield ("spec", field, index), address


def _fmt(path: PathT) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def _duplicates(cluster: Cluster) -> Iterator[Finding]:
    """One finding per entry and earlier entry it repeats (a range may repeat many addresses)."""
    seen: dict[str, PathT] = {}
    repeats: dict[tuple[PathT, PathT], list[str]] = {}
    for path, address in _listed(cluster):
        first = seen.get(address)
        if first is None:
            seen[address] = path
        else:
            repeats.setdefault((path, first), []).append(address)
    for (path, first), addresses in repeats.items():
        subject = f"'{addresses[0]}'"
        if len(addresses) > 1:
            subject += f" and {len(addresses) - 1} more address{'es' if len(addresses) > 2 else ''}"
        verb = "is" if len(addresses) == 1 else "are"
        if first[1] != path[1]:
            message = f"{subject} {verb} listed both as a master ({_fmt(first)}) and as a node"
        else:
            message = f"{subject} {verb} listed twice (also at {_fmt(first)})"
        yield path, message, "error"


def _network(cluster: Cluster) -> Iterator[Finding]:
    net = cluster.spec.network
    pod = ipaddress.ip_network(net.pod_cidr)
    svc = ipaddress.ip_network(net.service_cidr)
    if pod.version == svc.version and pod.overlaps(svc):
        yield (
            ("spec", "network", "serviceCIDR"),
            f"service network {svc} overlaps the pod network {pod}",
            "error",
        )
    vip = ipaddress.ip_address(cluster.spec.vip)
    for name, cidr in (("podCIDR", pod), ("serviceCIDR", svc)):
        if vip.version == cidr.version and vip in cidr:
            yield ("spec", "vip"), f"VIP {vip} lies inside {name} {cidr}", "error"
    for path, address in _listed(cluster):
        if address == str(vip):
            yield ("spec", "vip"), f"VIP {vip} is also the address of host {_fmt(path)}", "error"
        if is_ip(address):
            ip = ipaddress.ip_address(address)
            for name, cidr in (("podCIDR", pod), ("serviceCIDR", svc)):
                if ip.version == cidr.version and ip in cidr:
                    yield path, f"host {address} lies inside {name} {cidr}", "error"


def _overrides(cluster: Cluster) -> Iterator[Finding]:
    listed = set(cluster.spec.all_addresses)
    for key in cluster.spec.hosts:
        if key not in listed:
            yield (
                ("spec", "hosts", key),
                f"'{key}' is not one of the masters or nodes of this Clusterfile",
                "error",
            )


def _authentication(cluster: Cluster) -> Iterator[Finding]:
    stranded = [
        a for a in cluster.spec.all_addresses if not cluster.spec.ssh_for(a).can_authenticate()
    ]
    if stranded:
        more = f" and {len(stranded) - 1} more" if len(stranded) > 1 else ""
        yield (
            ("spec", "ssh"),
            f"no way to authenticate to {stranded[0]}{more}: set privateKey, password or "
            "agent: true here or under spec.hosts",
            "error",
        )


def _jump_authentication(cluster: Cluster) -> Iterator[Finding]:
    """A jump host without credentials of its own is offered the hosts' key and agent, never
    their password (a password sent to the bastion would be the bastion's to keep)."""
    for address in cluster.spec.all_addresses:
        ssh = cluster.spec.ssh_for(address)
        jump = ssh.jump_host
        if jump is None or jump.password is not None or jump.private_key is not None:
            continue
        if ssh.private_key is not None or ssh.agent:
            continue
        override = cluster.spec.override_for(address).ssh
        own = override is not None and override.jump_host is not None
        path: PathT = ("spec", "hosts", address, "ssh", "jumpHost") if own else (
            "spec", "ssh", "jumpHost")  # fmt: skip
        yield (
            path,
            f"the jump host {jump.host} has no credentials of its own, and {address} has only a "
            "password, which sealer does not send to a jump host: give the jump host a "
            "privateKey or password, or the hosts a privateKey or agent: true",
            "error",
        )
        return


def _load_balancer(cluster: Cluster) -> Iterator[Finding]:
    """The node-local load balancer (sealer-care) balances IPv4 only, and needs the masters'
    addresses to write its rules: IPv6 and DNS-named masters are not supported yet."""
    if not cluster.spec.nodes:
        return  # no node, no load balancer
    if ipaddress.ip_address(cluster.spec.vip).version != 4:
        yield ("spec", "vip"), "the node-local load balancer supports an IPv4 VIP only", "error"
    for index, entry in enumerate(cluster.spec.masters):
        for address in expand_entry(entry):
            if not is_ip(address) or ipaddress.ip_address(address).version != 4:
                yield (
                    ("spec", "masters", index),
                    f"'{address}': with nodes, masters must be IPv4 addresses (the node-local "
                    "load balancer does not support IPv6 or DNS names yet)",
                    "error",
                )
                break


def _quorum(cluster: Cluster) -> Iterator[Finding]:
    count = len(cluster.spec.master_addresses)
    if count % 2 == 0:
        yield (
            ("spec", "masters"),
            f"{count} masters: etcd tolerates no more failures than with {count - 1}; "
            "an odd number is recommended",
            "warning",
        )


def cross_checks(cluster: Cluster) -> Iterator[Finding]:
    yield from _duplicates(cluster)
    yield from _network(cluster)
    yield from _overrides(cluster)
    yield from _authentication(cluster)
    yield from _jump_authentication(cluster)
    yield from _load_balancer(cluster)
    yield from _quorum(cluster)
