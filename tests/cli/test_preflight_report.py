"""The preflight report: every finding in one place (lines without a terminal, JSON), and
PreflightFailed, rendered as one paragraph, only when a finding is an error."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from sealer.cli.render import Ui, render_error
from sealer.cli.session import check_preflight, preflight_json
from sealer.plan.diff import Plan
from sealer.plan.preflight import Finding, Preflight, PreflightFailed

PORT = Finding("ports", ("10.0.0.2",), "error", "port 6443 is in use by x (pid 9)", "stop it")
NAME = Finding("hostname", ("10.0.0.3", "10.0.0.4"), "error", "2 hosts have the same", "rename")
SWAP = Finding("swap", ("10.0.0.3",), "warning", "swap is on (/swapfile)", "prepare does it")


def ui() -> tuple[Ui, io.StringIO, io.StringIO]:
    out, err = io.StringIO(), io.StringIO()
    consoles = (Console(file=f, no_color=True, soft_wrap=True) for f in (out, err))
    return Ui(*consoles), out, err


def test_every_finding_is_listed_and_errors_raise_after_the_list() -> None:
    console, out, err = ui()
    plan = Plan((), preflight=Preflight((PORT, NAME, SWAP), {}, ("clock",)))
    with pytest.raises(PreflightFailed) as caught:
        check_preflight(console, plan)
    assert out.getvalue().splitlines() == [
        "preflight: 2 error(s), 1 warning(s)",
        "  error ports: 10.0.0.2: port 6443 is in use by x (pid 9) (fix: stop it)",
        "  error hostname: 10.0.0.3, 10.0.0.4: 2 hosts have the same (fix: rename)",
        "warning swap: 10.0.0.3: swap is on (/swapfile) (fix: prepare does it)",
    ]
    render_error(console, caught.value)
    assert err.getvalue().splitlines() == [
        "error: preflight found 2 errors on 10.0.0.2, 10.0.0.3, 10.0.0.4 (listed above); no "
        "host was changed",
        "  hint: fix them, or skip a check with --ignore-preflight NAME or spec.preflight.ignore",
    ]
    assert preflight_json(plan.preflight) == {
        "errors": 2,
        "findings": [f.to_dict() for f in (PORT, NAME, SWAP)],
        "ignored": ["clock"],
    }


def test_warnings_alone_do_not_stop_and_no_finding_prints_nothing() -> None:
    console, out, _ = ui()
    check_preflight(console, Plan((), preflight=Preflight((SWAP,))))
    assert out.getvalue().startswith("preflight: 0 error(s), 1 warning(s)")
    console, out, _ = ui()
    check_preflight(console, Plan(()))
    assert out.getvalue() == ""
