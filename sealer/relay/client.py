"""The argv of the relay program's modes, its URL, and ``--upload-limit`` values (pure)."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from importlib import resources

from sealer.errors import UsageError

__all__ = [
    "EXIT_CORRUPT",
    "EXIT_UNREACHABLE",
    "FetchArgs",
    "ServeArgs",
    "fetch_argv",
    "parse_rate",
    "program_source",
    "serve_argv",
    "stop_argv",
    "url_for",
]

#: The program's exit statuses sealer acts on (sealer/relay/program.py).
EXIT_UNREACHABLE = 2
EXIT_CORRUPT = 3

#: A server with no request for this long ends (the run that started it was killed).
IDLE_SECONDS = 60
#: ... and every server ends after this long, whatever happens.
LIFETIME_SECONDS = 3600
#: How long a client tries to open its connection before it says the server is unreachable.
CONNECT_SECONDS = 5


def program_source() -> str:
    """The program run on the hosts, exactly as in the package."""
    return resources.files("sealer.relay").joinpath("program.py").read_text()


@dataclass(frozen=True)
class ServeArgs:
    bind: str
    path: str
    sha256: str
    token: str
    rate: int = 0


@dataclass(frozen=True)
class FetchArgs:
    url: str
    dest: str
    sha256: str
    rate: int = 0


def serve_argv(args: ServeArgs) -> list[str]:
    return [
        "python3",
        "-c",
        program_source(),
        "serve",
        args.bind,
        args.path,
        args.sha256,
        args.token,
        str(IDLE_SECONDS),
        str(LIFETIME_SECONDS),
        str(args.rate),
    ]


def fetch_argv(args: FetchArgs) -> list[str]:
    return [
        "python3",
        "-c",
        program_source(),
        "fetch",
        args.url,
        args.dest,
        args.sha256,
        str(CONNECT_SECONDS),
        str(args.rate),
    ]


def stop_argv(pid: int, token: str) -> list[str]:
    return ["python3", "-c", program_source(), "stop", str(pid), token]


def url_for(address: str, port: int, token: str) -> str:
    """``http://ADDR:PORT/TOKEN`` (brackets around an IPv6 address)."""
    try:
        v6 = ipaddress.ip_address(address).version == 6
    except ValueError:
        v6 = False
    host = f"[{address}]" if v6 else address
    return f"http://{host}:{port}/{token}"


_RATE = re.compile(r"^(\d+(?:\.\d+)?)([kmg]?)$", re.IGNORECASE)
_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}


def parse_rate(text: str) -> int:
    """``--upload-limit``: bytes per second, with an optional K, M or G (1024-based, as curl's
    ``--limit-rate``): ``500K``, ``20M``, ``1.5G``."""
    match = _RATE.match(text.strip())
    if match is None or float(match.group(1)) <= 0:
        raise UsageError(
            f"--upload-limit {text!r}: expected bytes per second, e.g. 20M (K, M, G: 1024-based)"
        )
    return int(float(match.group(1)) * _UNITS[match.group(2).lower()])
