"""Hosts the Clusterfile names by DNS name: their Nodes are found by that name (observe.py)."""

from __future__ import annotations

from sealer.plan.observe import nodes_as_named
from sealer.plan.state import LiveNode


def node(name: str, address: str) -> LiveNode:
    return LiveNode(name=name, address=address, roles=(), version="v1.29.3", ready=True)


def test_a_node_whose_internal_ip_a_dns_entry_resolved_to_takes_that_entry() -> None:
    live = (node("m1", "10.9.0.2"), node("n1", "10.9.0.7"), node("old", "10.9.0.9"))
    resolved = {"10.9.0.2": None, "n1.example.com": "10.9.0.7"}
    assert [n.address for n in nodes_as_named(live, resolved)] == [
        "10.9.0.2",  # named by address in the file: as it was
        "n1.example.com",  # named by DNS name: the planner looks it up by that name
        "10.9.0.9",  # in no entry: stays its address (a node the file no longer lists)
    ]
    assert nodes_as_named(live, {}) == live
