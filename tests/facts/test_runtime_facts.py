"""``crictl info``'s parser: the runtime answers (NetworkReady either way), RuntimeReady false,
connection errors in both of crictl's log formats, a missing crictl, garbage.

The fixtures have crictl 1.29's shapes against containerd 1.7 (info's JSON as crictl prints
it; the fatal line in logrus' text format, as over SSH, and in its terminal format)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sealer.connect import Result
from sealer.facts.runtime import RuntimeStatus, crictl_message, parse_crictl_info, runtime_status

FIXTURES = Path(__file__).parent / "fixtures"
INFO = (FIXTURES / "crictl-info.containerd.json").read_text()


def test_the_fact_asks_crictl_on_the_endpoint() -> None:
    fact = runtime_status("unix:///run/containerd/containerd.sock")
    assert fact.argv == (
        "crictl",
        "--runtime-endpoint",
        "unix:///run/containerd/containerd.sock",
        "info",
    )


def test_a_runtime_that_answers_before_the_network_add_on_is_fine() -> None:
    assert parse_crictl_info(Result(0, INFO, "")) == RuntimeStatus(True, False, "")


def test_network_ready_is_read_not_judged() -> None:
    doc = json.loads(INFO)
    doc["status"]["conditions"][1] = {"type": "NetworkReady", "status": True}
    assert parse_crictl_info(Result(0, json.dumps(doc), "")) == RuntimeStatus(True, True, "")
    doc["status"]["conditions"] = doc["status"]["conditions"][:1]
    assert parse_crictl_info(Result(0, json.dumps(doc), "")).network_ready is None


def test_runtime_ready_false_is_not_usable_and_says_why() -> None:
    doc = json.loads(INFO)
    doc["status"]["conditions"][0] = {
        "type": "RuntimeReady",
        "status": False,
        "reason": "ContainerdNotReady",
        "message": "the runtime is shutting down",
    }
    status = parse_crictl_info(Result(0, json.dumps(doc), ""))
    assert not status.answers
    assert status.detail == (
        "RuntimeReady=false reason:ContainerdNotReady message:the runtime is shutting down"
    )


def test_no_socket_is_crictl_s_own_message() -> None:
    stderr = (FIXTURES / "crictl-info.no-socket.stderr").read_text()
    status = parse_crictl_info(Result(1, "", stderr))
    assert status == RuntimeStatus(
        False,
        None,
        'validate service connection: validate CRI v1 runtime API for endpoint "unix:///run/'
        'containerd/containerd.sock": rpc error: code = Unavailable desc = connection error: '
        'desc = "transport: Error while dialing: dial unix /run/containerd/containerd.sock: '
        'connect: no such file or directory"',
    )


def test_a_runtime_without_cri_in_the_terminal_format() -> None:
    stderr = (FIXTURES / "crictl-info.no-cri.stderr").read_text()
    assert parse_crictl_info(Result(1, "", stderr)).detail == (
        "getting status of runtime: rpc error: code = Unimplemented desc = unknown service "
        "runtime.v1.RuntimeService"
    )


def test_other_failures_keep_the_last_line_or_the_exit_status() -> None:
    assert crictl_message("some warning\nboom\n") == "boom"
    assert parse_crictl_info(Result(2, "", "")).detail == "crictl exited 2"
    missing = parse_crictl_info(Result(127, "", "sh: 1: crictl: not found"))
    assert missing == RuntimeStatus(False, None, "crictl not found on the PATH")


@pytest.mark.parametrize("stdout", ["not json", "[]", '{"status": {}}', '{"config": {}}'])
def test_garbage_is_an_error_not_a_guess(stdout: str) -> None:
    with pytest.raises(ValueError):
        parse_crictl_info(Result(0, stdout, ""))
