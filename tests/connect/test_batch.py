"""Several argv in one remote command: each keeps its own output and exit status."""

from __future__ import annotations

import secrets
import subprocess

from hypothesis import given, settings
from hypothesis import strategies as st

from sealer.connect.command import batch_argv, split_batch


def run_batch(argvs: list[list[str]]) -> list[tuple[int, str, str]] | None:
    """Run locally through sh, decoding like the connection pool (no newline translation)."""
    marker = secrets.token_hex(8)
    done = subprocess.run(batch_argv(argvs, marker), capture_output=True, check=False)
    out, err = done.stdout.decode("utf-8", "surrogateescape"), done.stderr.decode()
    return split_batch(out, err, marker, len(argvs))


def test_each_argv_keeps_its_output_and_status() -> None:
    frames = run_batch(
        [
            ["echo", "a $(touch /tmp/never) `id` 'q'"],
            ["sh", "-c", "echo out; echo err >&2; exit 3"],
            ["printf", "no newline"],
            ["cat", "/definitely/missing"],
            ["true"],
        ]
    )
    assert frames is not None
    assert frames[0] == (0, "a $(touch /tmp/never) `id` 'q'\n", "")
    assert frames[1] == (3, "out\n", "err\n")
    assert frames[2] == (0, "no newline", "")
    assert frames[3][0] == 1 and "No such file" in frames[3][2]
    assert frames[4] == (0, "", "")


def test_commands_do_not_read_the_batch_stdin() -> None:
    frames = run_batch([["cat"], ["echo", "after"]])
    assert frames == [(0, "", ""), (0, "after\n", "")]


def test_a_cut_short_batch_is_reported_as_incomplete() -> None:
    marker = secrets.token_hex(8)
    argvs = [["echo", "one"], ["echo", "two"]]
    done = subprocess.run(batch_argv(argvs, marker), capture_output=True, text=True, check=False)
    assert split_batch(done.stdout[: done.stdout.rindex(marker) - 1], "", marker, 2) is None


def test_output_cannot_forge_a_frame_without_the_marker() -> None:
    frames = run_batch([["printf", "\nMARKER rc 0 0\n"], ["echo", "x"]])
    assert frames is not None and frames[1] == (0, "x\n", "")


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.lists(
            st.text(
                st.characters(exclude_characters="\x00", exclude_categories=["Cs"]), max_size=12
            ),
            max_size=3,
        ),
        min_size=1,
        max_size=4,
    )
)
def test_any_arguments_arrive_verbatim(args: list[list[str]]) -> None:
    frames = run_batch([["printf", "%s\\n", *words] for words in args])
    assert frames is not None
    for words, (status, out, err) in zip(args, frames, strict=True):
        assert (status, err) == (0, "")
        assert out == ("".join(f"{w}\n" for w in words) if words else "\n")
