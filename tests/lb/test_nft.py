"""nftables backend: rendering, the JSON fact parser (nft 1.0.6 fixtures), a real round trip."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sealer.lb import LbError, parse_nft_ruleset
from sealer.lb.care import CareError, NftState, parse_nft_json, render_nft
from tests.lb.netlab import NetLab

FIXTURES = Path(__file__).parent / "fixtures"
VIP = "10.103.97.2"


def test_render_one_transaction_that_replaces_the_table() -> None:
    text = render_nft(VIP, 6443, ["10.0.0.11", "10.0.0.12"])
    assert text.splitlines() == [
        "table ip sealer_care",
        "delete table ip sealer_care",
        "table ip sealer_care {",
        "\tchain output {",
        "\t\ttype nat hook output priority -110; policy accept;",
        f"\t\tip daddr {VIP} tcp dport 6443 dnat to numgen inc mod 2 map "
        "{ 0 : 10.0.0.11, 1 : 10.0.0.12 }",
        "\t}",
        "}",
    ]
    assert "dnat to 10.0.0.11\n" in render_nft(VIP, 6443, ["10.0.0.11"])
    with pytest.raises(CareError):
        render_nft(VIP, 6443, [])


def test_parse_fixtures() -> None:
    three = (FIXTURES / "nft-three.json").read_text()
    assert parse_nft_ruleset(three) == ["192.168.10.11", "192.168.10.12", "192.168.10.13"]
    assert parse_nft_json(three) == NftState(
        VIP, 6443, ("192.168.10.11", "192.168.10.12", "192.168.10.13")
    )
    assert parse_nft_ruleset((FIXTURES / "nft-one.json").read_text()) == ["192.168.10.12"]
    assert parse_nft_ruleset((FIXTURES / "nft-empty.json").read_text()) == []


def test_parse_map_order_follows_keys_not_listing_order() -> None:
    document = json.loads((FIXTURES / "nft-three.json").read_text())
    for item in document["nftables"]:
        if "rule" in item:
            data = item["rule"]["expr"][-1]["dnat"]["addr"]["map"]["data"]["set"]
            data.reverse()
    assert parse_nft_ruleset(json.dumps(document)) == [
        "192.168.10.11",
        "192.168.10.12",
        "192.168.10.13",
    ]


def test_parse_garbage() -> None:
    with pytest.raises(LbError, match="invalid JSON"):
        parse_nft_ruleset("table ip sealer_care {")
    with pytest.raises(LbError, match="no 'nftables' list"):
        parse_nft_ruleset("{}")


@pytest.mark.lab
def test_round_trip_through_the_kernel(lab: NetLab) -> None:
    for backends in (
        ["10.0.0.11"],
        ["10.0.0.11", "10.0.0.12"],
        [f"10.0.0.{i}" for i in range(1, 9)],
    ):
        # the same file works whether the table exists or not (create, delete, re-create)
        lab.run("nft", "-f", "-", stdin=render_nft(VIP, 6443, backends))
        assert parse_nft_ruleset(lab.nft_json()) == backends
    assert lab.rules() == [f"10.0.0.{i}" for i in range(1, 9)]
