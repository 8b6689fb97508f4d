"""The relay's argv, URLs and --upload-limit values (pure)."""

from __future__ import annotations

import pytest

from sealer.errors import UsageError
from sealer.relay import FetchArgs, ServeArgs, fetch_argv, parse_rate, serve_argv, url_for
from sealer.relay.client import CONNECT_SECONDS, IDLE_SECONDS, LIFETIME_SECONDS


@pytest.mark.parametrize(
    ("text", "rate"),
    [("1000", 1000), ("500K", 512000), ("20M", 20971520), ("1.5g", 1610612736), ("2m", 2097152)],
)
def test_upload_limit_values(text: str, rate: int) -> None:
    assert parse_rate(text) == rate


@pytest.mark.parametrize("text", ["", "0", "fast", "20 MB", "-5M", "20mbit"])
def test_bad_upload_limits_are_usage_errors(text: str) -> None:
    with pytest.raises(UsageError, match="--upload-limit") as error:
        parse_rate(text)
    assert "e.g. 20M" in error.value.message


def test_urls_bracket_ipv6_addresses() -> None:
    assert url_for("10.0.0.2", 4242, "tok") == "http://10.0.0.2:4242/tok"
    assert url_for("fd00::2", 4242, "tok") == "http://[fd00::2]:4242/tok"


def test_the_argv_carries_the_program_and_its_limits() -> None:
    serve = serve_argv(ServeArgs("10.0.0.2", "/var/lib/sealer/package/k.tgz", "a" * 64, "t", 7))
    assert serve[:2] == ["python3", "-c"]
    assert serve[3:] == [
        "serve", "10.0.0.2", "/var/lib/sealer/package/k.tgz", "a" * 64, "t",
        str(IDLE_SECONDS), str(LIFETIME_SECONDS), "7",
    ]  # fmt: skip
    fetch = fetch_argv(FetchArgs("http://10.0.0.2:1/t", "/p/k.tgz", "a" * 64))
    assert fetch[3:] == ["fetch", "http://10.0.0.2:1/t", "/p/k.tgz", "a" * 64,
                         str(CONNECT_SECONDS), "0"]  # fmt: skip
