from __future__ import annotations

import shlex
import subprocess

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sealer.connect import builtin_argv, render, sudo_argv


def test_plain_argv_is_joined() -> None:
    assert render(["echo", "$(id)", "a b", "'"]) == "echo '$(id)' 'a b' ''\"'\"''"


def test_sudo_wraps_with_non_interactive_sudo() -> None:
    assert render(["id", "-u"], sudo=True) == "sudo -n -- id -u"
    assert sudo_argv(["id"]) == ["sudo", "-n", "--", "id"]


def test_cwd_renders_cd_and_runs_cd_under_sudo_too() -> None:
    assert render(["ls", "-l"], cwd="/tmp/a dir") == "cd '/tmp/a dir' && ls -l"
    assert render(["ls"], cwd="/root", sudo=True) == "sudo -n -- sh -c 'cd /root && ls'"


def test_env_uses_env_program() -> None:
    assert render(["kubectl", "get", "nodes"], env={"KUBECONFIG": "/etc/k 8s"}) == (
        "env 'KUBECONFIG=/etc/k 8s' kubectl get nodes"
    )
    with pytest.raises(ValueError):
        render(["true"], env={"A=B": "x"})


def test_builtin_argv_quotes_its_arguments() -> None:
    assert builtin_argv("command", "-v", "python3") == ["sh", "-c", "command -v python3"]
    assert builtin_argv("command", "-v", "a;b") == ["sh", "-c", "command -v 'a;b'"]


def test_rejects_strings_empty_and_nul() -> None:
    with pytest.raises(TypeError):
        render("rm -rf /")
    with pytest.raises(ValueError):
        render([])
    with pytest.raises(ValueError):
        render(["echo", "a\x00b"])


#: An argument: any text without NUL and without lone surrogates (they have no bytes: no argv
#: can carry them), or any bytes without NUL as Python shows them (surrogateescape).
ARGUMENTS = st.text(
    alphabet=st.characters(exclude_characters="\x00", exclude_categories=["Cs"])
) | st.binary().map(lambda b: b.replace(b"\x00", b"").decode("utf-8", "surrogateescape"))


@given(st.lists(ARGUMENTS, min_size=1, max_size=5))
def test_round_trips_through_a_real_shell(args: list[str]) -> None:
    # Every argument arrives verbatim at the program, whatever it contains.
    script = render(["printf", "%s\\0", *args], cwd="/")
    out = subprocess.run(["sh", "-c", script], capture_output=True, check=True).stdout
    assert out.split(b"\x00")[:-1] == [a.encode("utf-8", "surrogateescape") for a in args]
    assert shlex.split(script.split(" && ", 1)[1]) == ["printf", "%s\\0", *args]
