from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sealer.connect import Result
from sealer.facts import (
    BEGIN_MARKER,
    END_MARKER,
    HostsEntry,
    hosts_block,
    parse_hosts_block,
    remove_block,
    render_hosts_block,
    replace_block,
)

ORIGINAL = "127.0.0.1 localhost\r\n# a comment\n\n::1 localhost ip6-localhost"
ENTRIES = [
    HostsEntry("10.0.0.10", ("apiserver.cluster.local",)),
    HostsEntry("10.0.0.11", ("master-1", "master-1.example")),
]


def test_render_and_parse() -> None:
    block = render_hosts_block(ENTRIES)
    assert block == (
        f"{BEGIN_MARKER}\n"
        "10.0.0.10 apiserver.cluster.local\n"
        "10.0.0.11 master-1 master-1.example\n"
        f"{END_MARKER}\n"
    )
    assert parse_hosts_block(block) == ENTRIES
    assert parse_hosts_block(ORIGINAL) is None
    assert hosts_block.argv == ("cat", "--", "/etc/hosts")
    assert hosts_block.parse(Result(0, "127.0.0.1 localhost\n" + block, "")) == ENTRIES


def test_replace_appends_then_replaces_keeping_the_rest_byte_for_byte() -> None:
    first = replace_block(ORIGINAL, render_hosts_block(ENTRIES[:1]))
    assert first == ORIGINAL + "\n" + render_hosts_block(ENTRIES[:1])
    second = replace_block(first, render_hosts_block(ENTRIES))
    assert second == ORIGINAL + "\n" + render_hosts_block(ENTRIES)
    assert remove_block(second) == ORIGINAL + "\n"
    middle = "a b\n" + render_hosts_block(ENTRIES[:1]) + "c d\r\n"
    assert replace_block(middle, render_hosts_block(ENTRIES)) == (
        "a b\n" + render_hosts_block(ENTRIES) + "c d\r\n"
    )
    assert remove_block(middle) == "a b\nc d\r\n"
    assert remove_block(ORIGINAL) == ORIGINAL


def test_comments_and_blank_lines_inside_the_block_are_ignored() -> None:
    text = f"{BEGIN_MARKER}\n\n10.0.0.1 a # note\n# x\n  {END_MARKER}  \n"
    assert parse_hosts_block(text) == [HostsEntry("10.0.0.1", ("a",))]


@pytest.mark.parametrize(
    "text",
    [
        f"{BEGIN_MARKER}\n1.1.1.1 a\n",
        f"1.1.1.1 a\n{END_MARKER}\n",
        f"{BEGIN_MARKER}\n{BEGIN_MARKER}\n{END_MARKER}\n",
        f"{BEGIN_MARKER}\n{END_MARKER}\n{BEGIN_MARKER}\n{END_MARKER}\n",
        f"{BEGIN_MARKER}\n1.1.1.1\n{END_MARKER}\n",
    ],
)
def test_broken_blocks_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_hosts_block(text)


def test_invalid_entries() -> None:
    with pytest.raises(ValueError):
        HostsEntry("10.0.0.1", ("a b",))
    with pytest.raises(ValueError):
        HostsEntry("10.0.0.1", ())


NAME = st.from_regex(r"[a-z0-9][a-z0-9.-]{0,20}", fullmatch=True)
ENTRY = st.builds(
    HostsEntry, st.ip_addresses().map(str), st.lists(NAME, min_size=1, max_size=3).map(tuple)
)
OTHER = st.lists(
    st.text(st.characters(exclude_characters="\n", exclude_categories=["Cs"]), max_size=30).filter(
        lambda line: line.strip() not in (BEGIN_MARKER, END_MARKER)
    ),
    max_size=6,
).map("\n".join)


@given(OTHER, st.lists(ENTRY, max_size=4), st.lists(ENTRY, max_size=4))
def test_properties(other: str, old: list[HostsEntry], new: list[HostsEntry]) -> None:
    once = replace_block(other, render_hosts_block(old))
    assert parse_hosts_block(once) == old
    twice = replace_block(once, render_hosts_block(new))
    assert parse_hosts_block(twice) == new
    assert replace_block(twice, render_hosts_block(new)) == twice  # idempotent
    assert remove_block(twice) == remove_block(once)
    assert remove_block(once).startswith(other)
