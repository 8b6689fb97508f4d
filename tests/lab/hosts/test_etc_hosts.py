"""The lab's /etc/hosts block (sealer_lab/etc_hosts.py): pure text editing, and the atomic
file update. Needs nothing (the file tests use a temporary file)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sealer.errors import LabError
from sealer.facts import hosts as sealer_hosts
from sealer_lab import etc_hosts

MACHINE = "127.0.0.1 localhost\n# a comment\n\n::1\tlocalhost ip6-localhost\n"
DEMO = [("10.200.0.2", "demo-master-1"), ("10.200.0.3", "demo-node-1")]
SEALER_BLOCK = (
    "# BEGIN sealer managed block\n10.0.0.10 apiserver.cluster.local\n# END sealer managed block\n"
)

lines = st.lists(
    st.text(alphabet=st.characters(blacklist_characters="\n", codec="utf-8"), max_size=30).filter(
        lambda s: "sealer-lab" not in s
    ),
    max_size=8,
)


def test_block_is_appended_with_markers_naming_the_lab() -> None:
    out = etc_hosts.set_block(MACHINE, "demo", DEMO)
    assert out == (
        MACHINE + "# BEGIN sealer-lab demo\n10.200.0.2\tdemo-master-1\n"
        "10.200.0.3\tdemo-node-1\n# END sealer-lab demo\n"
    )
    assert etc_hosts.lab_blocks(out) == ["demo"]


def test_setting_twice_changes_nothing_and_a_new_host_replaces_the_block_in_place() -> None:
    once = etc_hosts.set_block(MACHINE, "demo", DEMO)
    assert etc_hosts.set_block(once, "demo", DEMO) == once
    after = once + "10.1.1.1 later-line\n"
    grown = etc_hosts.set_block(after, "demo", [*DEMO, ("10.200.0.4", "demo-node-2")])
    assert grown.endswith("# END sealer-lab demo\n10.1.1.1 later-line\n")
    assert grown.count("# BEGIN sealer-lab demo") == 1
    assert "10.200.0.4\tdemo-node-2\n" in grown


def test_a_missing_final_newline_is_completed_before_the_block() -> None:
    out = etc_hosts.set_block("127.0.0.1 localhost", "demo", DEMO)
    assert out.startswith("127.0.0.1 localhost\n# BEGIN sealer-lab demo\n")


def test_removing_leaves_every_other_line_and_other_labs_blocks() -> None:
    both = etc_hosts.set_block(etc_hosts.set_block(MACHINE, "demo", DEMO), "other", [DEMO[0]])
    only_other = etc_hosts.remove_block(both, "demo")
    assert etc_hosts.lab_blocks(only_other) == ["other"]
    assert etc_hosts.remove_block(only_other, "other") == MACHINE
    assert etc_hosts.remove_block(MACHINE, "demo") == MACHINE  # nothing to remove: unchanged


def test_a_lab_whose_name_prefixes_another_touches_only_its_own_block() -> None:
    text = etc_hosts.set_block(MACHINE, "demo-2", DEMO)
    assert etc_hosts.remove_block(text, "demo") == text
    assert etc_hosts.set_block(text, "demo", DEMO).count("# BEGIN sealer-lab") == 2


def test_an_unterminated_block_is_an_error_not_a_guess() -> None:
    with pytest.raises(LabError, match="has no '# END sealer-lab demo'"):
        etc_hosts.remove_block(MACHINE + "# BEGIN sealer-lab demo\n10.0.0.1 x\n", "demo")


def test_fields_with_spaces_or_comments_are_refused() -> None:
    with pytest.raises(LabError):
        etc_hosts.render_block("demo", [("10.0.0.1", "a b")])
    with pytest.raises(LabError):
        etc_hosts.render_block("demo", [("10.0.0.1#", "a")])


@given(before=lines, after=lines)
def test_set_then_remove_gives_back_the_text_around_it(before: list[str], after: list[str]) -> None:
    text = "".join(f"{line}\n" for line in before)
    tail = "".join(f"{line}\n" for line in after)
    with_block = etc_hosts.set_block(text, "demo", DEMO) + tail
    assert etc_hosts.set_block(with_block, "demo", DEMO) == with_block
    assert etc_hosts.remove_block(with_block, "demo") == text + tail


def test_sealer_block_and_lab_block_ignore_each_other() -> None:
    """sealer writes its own block on the hosts; its parser must not take the lab's lines,
    and neither block's edits may touch the other's."""
    text = etc_hosts.set_block(MACHINE + SEALER_BLOCK, "demo", DEMO)
    assert sealer_hosts.parse_hosts_block(text) == [
        sealer_hosts.HostsEntry("10.0.0.10", ("apiserver.cluster.local",))
    ]
    lab_only = etc_hosts.set_block(MACHINE, "demo", DEMO)
    assert sealer_hosts.parse_hosts_block(lab_only) is None
    # sealer rewrites and removes its block: the lab's block stays as it was
    new_sealer = sealer_hosts.render_hosts_block(
        [sealer_hosts.HostsEntry("10.0.0.11", ("apiserver.cluster.local",))]
    )
    rewritten = sealer_hosts.replace_block(text, new_sealer)
    assert etc_hosts.render_block("demo", DEMO) in rewritten
    assert etc_hosts.render_block("demo", DEMO) in sealer_hosts.remove_block(rewritten)
    # the lab removes its block: sealer's stays as it was
    assert etc_hosts.remove_block(text, "demo") == MACHINE + SEALER_BLOCK


def test_update_file_is_atomic_keeps_mode_and_reports_change(tmp_path: Path) -> None:
    path = tmp_path / "hosts"
    lock = tmp_path / "lock"
    path.write_text(MACHINE)
    os.chmod(path, 0o640)
    inode = path.stat().st_ino
    assert etc_hosts.update_file(path, lambda t: etc_hosts.set_block(t, "demo", DEMO), lock)
    assert path.stat().st_ino != inode  # a new file renamed over the old one
    assert path.stat().st_mode & 0o7777 == 0o640
    assert etc_hosts.lab_blocks(path.read_text()) == ["demo"]
    assert not etc_hosts.update_file(path, lambda t: etc_hosts.set_block(t, "demo", DEMO), lock)
    assert etc_hosts.update_file(path, lambda t: etc_hosts.remove_block(t, "demo"), lock)
    assert path.read_text() == MACHINE
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hosts", "lock"]  # no temporary file left
