"""The probe state machine, fail-open weights and log-on-change-only."""

from __future__ import annotations

import io
import socket
from pathlib import Path

import pytest

from sealer.lb.care import (
    DOWN,
    UNKNOWN,
    UP,
    Config,
    Daemon,
    Log,
    MasterState,
    NftBackend,
    ProbeResult,
    conntrack_delete_argv,
    desired_weights,
    next_state,
    parse_conntrack_deleted,
    sd_notify,
)

OK = ProbeResult(True, "HTTP 200")
BAD = ProbeResult(False, "HTTP 500")


def run(results: list[ProbeResult], fall: int = 3, rise: int = 2) -> list[str]:
    state = MasterState()
    seen = []
    for result in results:
        state = next_state(state, result, fall, rise)
        seen.append(state.status)
    return seen


def test_first_probe_decides_an_unknown_master() -> None:
    assert MasterState().status == UNKNOWN
    assert run([OK]) == [UP]
    assert run([BAD]) == [DOWN]


def test_fall_needs_n_failures_in_a_row() -> None:
    assert run([OK, BAD, BAD, BAD]) == [UP, UP, UP, DOWN]
    # a good probe in between resets the count
    assert run([OK, BAD, BAD, OK, BAD, BAD, BAD]) == [UP, UP, UP, UP, UP, UP, DOWN]
    assert run([OK, BAD], fall=1) == [UP, DOWN]


def test_rise_needs_m_good_probes_in_a_row() -> None:
    assert run([BAD, OK, OK]) == [DOWN, DOWN, UP]
    assert run([BAD, OK, BAD, OK, OK], rise=2) == [DOWN, DOWN, DOWN, DOWN, UP]
    assert run([BAD, OK, OK, OK], rise=3) == [DOWN, DOWN, DOWN, UP]


def test_state_counts_and_detail() -> None:
    state = next_state(MasterState(UP, good=5, bad=0), BAD, 3, 2)
    assert state == MasterState(UP, good=0, bad=1, detail="HTTP 500")


def test_weights_and_fail_open() -> None:
    masters = ["a", "b", "c"]
    assert desired_weights(masters, {}) == ({"a": 1, "b": 1, "c": 1}, False)
    states = {"a": MasterState(UP), "b": MasterState(DOWN), "c": MasterState(UNKNOWN)}
    assert desired_weights(masters, states) == ({"a": 1, "b": 0, "c": 1}, False)
    all_down = {m: MasterState(DOWN) for m in masters}
    assert desired_weights(masters, all_down) == ({"a": 1, "b": 1, "c": 1}, True)


def test_log_writes_each_distinct_error_once() -> None:
    out = io.StringIO()
    log = Log(out)
    for _ in range(5):
        log.error("rules", "nft: command not found")
    log.recovered("rules", "rules are in shape again")
    log.recovered("rules", "rules are in shape again")
    log.error("rules", "nft: command not found")
    assert out.getvalue().splitlines() == [
        "sealer-care: error: nft: command not found",
        "sealer-care: rules are in shape again",
        "sealer-care: error: nft: command not found",
    ]


def test_daemon_logs_state_changes_only() -> None:
    out = io.StringIO()
    config = Config(vip="10.103.97.2", masters=("10.0.0.11", "10.0.0.12"), fall=2, rise=2)
    daemon = Daemon(config, NftBackend(), Log(out))
    rounds = [
        {"10.0.0.11": OK, "10.0.0.12": OK},
        *[{"10.0.0.11": OK, "10.0.0.12": OK}] * 10,
        {"10.0.0.11": OK, "10.0.0.12": ProbeResult(False, "connect: Connection refused")},
        {"10.0.0.11": OK, "10.0.0.12": ProbeResult(False, "connect: Connection refused")},
        *[{"10.0.0.11": OK, "10.0.0.12": BAD}] * 10,
        {"10.0.0.11": OK, "10.0.0.12": OK},
        {"10.0.0.11": OK, "10.0.0.12": OK},
        *[{"10.0.0.11": OK, "10.0.0.12": OK}] * 10,
    ]
    for results in rounds:
        daemon.observe(results)
    assert out.getvalue().splitlines() == [
        "sealer-care: master 10.0.0.11 up (first probe HTTP 200)",
        "sealer-care: master 10.0.0.12 up (first probe HTTP 200)",
        "sealer-care: master 10.0.0.12 down (2 failed probes in a row: "
        "connect: Connection refused)",
        "sealer-care: master 10.0.0.12 up (2 good probes in a row)",
    ]


def test_sd_notify_reaches_the_notify_socket(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "notify"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(str(path))
        monkeypatch.setenv("NOTIFY_SOCKET", str(path))
        sd_notify("READY=1")
        assert sock.recv(64) == b"READY=1"
    monkeypatch.delenv("NOTIFY_SOCKET")
    sd_notify("READY=1")  # outside systemd: nothing happens, nothing fails


def test_conntrack_argv_and_count() -> None:
    assert conntrack_delete_argv("10.103.97.2", 6443, "10.0.0.11") == [
        "conntrack",
        "-D",
        "-p",
        "tcp",
        "--orig-dst",
        "10.103.97.2",
        "--orig-port-dst",
        "6443",
        "--reply-src",
        "10.0.0.11",
    ]
    text = "conntrack v1.4.7 (conntrack-tools): 2 flow entries have been deleted.\n"
    assert parse_conntrack_deleted(text) == 2
    assert parse_conntrack_deleted(text.replace("2 flow", "0 flow")) == 0
    assert parse_conntrack_deleted("conntrack: command not found") is None


def test_missing_ca_file_fails_every_probe_without_network(tmp_path: Path) -> None:
    config = Config(
        vip="10.103.97.2", masters=("10.0.0.11", "10.0.0.12"), ca_file=str(tmp_path / "none")
    )
    results = Daemon(config, NftBackend(), Log(io.StringIO())).probe_all()
    assert set(results) == {"10.0.0.11", "10.0.0.12"}
    for result in results.values():
        assert not result.ok
        assert result.detail.startswith(f"cannot load TLS files ({tmp_path / 'none'})")
