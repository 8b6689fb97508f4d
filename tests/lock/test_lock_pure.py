"""The run lock's pure parts: the holder record, what a lock file means, the messages."""

from __future__ import annotations

import datetime as dt
import json
import os

import pytest

from sealer.cli.render import Ui, render_error
from sealer.errors import LockHeld
from sealer.lock.record import (
    EXPIRY_SECONDS,
    Holder,
    LockState,
    Verdict,
    held_error,
    parse_age,
    parse_holder,
    seen_warning,
    takeover_warning,
    verdict,
)

WHEN = dt.datetime(2024, 5, 1, 10, 0, 0, tzinfo=dt.UTC)


def _holder(run_id: str = "0123456789abcdef", command: str = "apply") -> Holder:
    return Holder(
        run_id=run_id,
        user="alice",
        workstation="laptop",
        pid=4242,
        command=command,
        cluster="prod",
        started="2024-05-01T10:00:00Z",
    )


def _state(holder: Holder | None = None, age: float = 5.0, host: str = "10.0.0.2") -> LockState:
    return LockState(host, (holder or _holder()).to_bytes().decode(), age)


def test_new_holder_names_this_process_and_a_random_run() -> None:
    one = Holder.new("apply", "prod", now=WHEN)
    two = Holder.new("apply", "prod", now=WHEN)
    assert one.pid == os.getpid()
    assert one.started == "2024-05-01T10:00:00Z"
    assert one.command == "apply" and one.cluster == "prod"
    assert one.run_id != two.run_id and len(one.run_id) == 16
    assert one.who == f"{one.user}@{one.workstation}"


def test_new_holder_start_time_is_utc() -> None:
    plus_two = dt.timezone(dt.timedelta(hours=2))
    holder = Holder.new("clean", "c", now=dt.datetime(2024, 5, 1, 12, 0, tzinfo=plus_two))
    assert holder.started == "2024-05-01T10:00:00Z"


def test_record_round_trips() -> None:
    holder = _holder()
    data = holder.to_bytes()
    assert data.endswith(b"\n")
    assert parse_holder(data) == holder
    assert parse_holder(data.decode()) == holder
    assert set(json.loads(data)) == {
        "run_id", "user", "workstation", "pid", "command", "cluster", "started",
    }  # fmt: skip


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"garbage",
        b"\xff\xfe",
        b"[1, 2]",
        b'{"run_id": "x"}',  # cut short
        json.dumps({**json.loads(_holder().to_bytes()), "pid": "4242"}).encode(),
        json.dumps({**json.loads(_holder().to_bytes()), "pid": True}).encode(),
        json.dumps({**json.loads(_holder().to_bytes()), "run_id": ""}).encode(),
        json.dumps({**json.loads(_holder().to_bytes()), "user": None}).encode(),
    ],
)
def test_records_sealer_did_not_write_are_none(data: bytes) -> None:
    assert parse_holder(data) is None


def test_age_uses_the_host_clock_only() -> None:
    assert parse_age("1714557700\n", "1714557600\n") == 100.0
    # the file's time is ahead of the host's clock (touched by another clock): not negative
    assert parse_age("1714557600", "1714557700") == 0.0
    with pytest.raises(ValueError, match="unexpected clock output"):
        parse_age("", "1714557600")


def test_verdicts() -> None:
    ours = _holder()
    expiry = EXPIRY_SECONDS
    assert verdict(_state(ours, 5), ours.run_id, expiry=expiry, break_lock=False) is Verdict.OURS
    # ours even when old and when breaking: never "take over" from ourselves
    assert verdict(_state(ours, 500), ours.run_id, expiry=expiry, break_lock=True) is Verdict.OURS
    other = "f" * 16
    assert verdict(_state(ours, 5), other, expiry=expiry, break_lock=False) is Verdict.HELD
    assert verdict(_state(ours, 89), other, expiry=expiry, break_lock=False) is Verdict.HELD
    assert verdict(_state(ours, 90), other, expiry=expiry, break_lock=False) is Verdict.EXPIRED
    assert verdict(_state(ours, 90), other, expiry=expiry, break_lock=True) is Verdict.EXPIRED
    assert verdict(_state(ours, 5), other, expiry=expiry, break_lock=True) is Verdict.BROKEN
    assert verdict(_state(ours, 5), other, expiry=10, break_lock=False) is Verdict.HELD
    assert verdict(_state(ours, 10), other, expiry=10, break_lock=False) is Verdict.EXPIRED


def test_an_unreadable_record_is_held_until_it_expires() -> None:
    garbage = LockState("10.0.0.2", "not json", 5)
    assert garbage.holder is None
    assert verdict(garbage, "x", expiry=90, break_lock=False) is Verdict.HELD
    assert verdict(garbage, "x", expiry=90, break_lock=True) is Verdict.BROKEN
    assert verdict(LockState("h", "", 95), "x", expiry=90, break_lock=False) is Verdict.EXPIRED
    assert "unreadable lock record on 10.0.0.2" in garbage.describe()


def test_the_refusal_names_holder_host_command_time_heartbeat_and_the_way_out() -> None:
    error = held_error(_state(_holder(command="certs renew"), age=7), "prod", expiry=90)
    assert isinstance(error, LockHeld)
    assert error.exit_code == 1
    assert error.host == "10.0.0.2"
    text = str(error)
    for part in (
        "cluster prod is locked",
        "`certs renew`",
        "alice@laptop",
        "pid 4242",
        "run 0123456789abcdef",
        "on 10.0.0.2",
        "since 2024-05-01T10:00:00Z",
        "last heartbeat 7s ago",
        "expires 90s after its last heartbeat",
        "--break-lock",
    ):
        assert part in text, part
    assert "\n" not in error.message


def test_the_refusal_renders_as_one_error_with_a_hint(capsys: pytest.CaptureFixture[str]) -> None:
    from rich.console import Console

    ui = Ui(out=Console(no_color=True), err=Console(stderr=True, no_color=True, width=400))
    render_error(ui, held_error(_state(), "prod", expiry=90))
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert lines[0].startswith("error: cluster prod is locked by another sealer run")
    assert lines[1].strip().startswith("hint: ")
    assert "--break-lock" in lines[1]


@pytest.mark.parametrize(
    ("seconds", "shown"), [(0, "0s"), (59.9, "59s"), (119, "119s"), (125, "2m05s"), (7300, "2h01m")]
)
def test_heartbeat_ages_read_naturally(seconds: float, shown: str) -> None:
    assert f"last heartbeat {shown} ago" in _state(age=seconds).describe()


def test_takeover_warnings_name_the_old_holder_and_why() -> None:
    expired = takeover_warning(_state(age=300), Verdict.EXPIRED, expiry=90)
    assert "alice@laptop" in expired and "`apply`" in expired
    assert "expired" in expired and "90s" in expired
    broken = takeover_warning(_state(age=3), Verdict.BROKEN, expiry=90)
    assert "--break-lock" in broken and "alice@laptop" in broken


def test_seen_warnings_group_one_holder_over_several_masters() -> None:
    a, b = _holder("a" * 16), _holder("b" * 16, command="clean")
    lines = seen_warning(
        [_state(a, 4, "10.0.0.2"), _state(a, 6, "10.0.0.3"), _state(b, 200, "10.0.0.4")],
        expiry=90,
    )
    assert len(lines) == 2
    assert "`apply`" in lines[0] and "on 10.0.0.2, 10.0.0.3 since" in lines[0]
    assert "last heartbeat 4s ago" in lines[0] and "expired" not in lines[0]
    assert "`clean`" in lines[1] and "expired, last heartbeat 3m20s ago" in lines[1]
    assert seen_warning([], expiry=90) == []
