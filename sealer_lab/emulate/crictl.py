"""The emulated ``crictl``: ``info`` and ``version`` against the runtime's socket (:mod:`cri`).

``crictl [--runtime-endpoint|-r EP] [--timeout|-t D] [--debug|-D] info|version`` as crictl
1.29 does: the endpoint from the flag, else ``CONTAINER_RUNTIME_ENDPOINT``, else
``runtime-endpoint`` of ``/etc/crictl.yaml``, else containerd's default with crictl's warning.
``info`` prints the runtime's status as indented JSON (``{"status": {"conditions": [...]},
"cniconfig": ..., ...}``). When the runtime does not answer it exits 1 with crictl's fatal log
line (logrus' text format when stderr is not a terminal, as over SSH)::

    time="2026-12-02T08:00:00Z" level=fatal msg="validate service connection: validate CRI v1
    runtime API for endpoint \\"unix:///run/containerd/containerd.sock\\": rpc error: ..."
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from pathlib import Path

from sealer_lab.emulate import cri

__all__ = ["main"]

CONFIG = "/etc/crictl.yaml"
_VALUE_FLAGS = {
    "--runtime-endpoint": "runtime-endpoint",
    "-r": "runtime-endpoint",
    "--image-endpoint": "image-endpoint",
    "-i": "image-endpoint",
    "--timeout": "timeout",
    "-t": "timeout",
    "--config": "config",
    "-c": "config",
}
_BOOL_FLAGS = {"--debug", "-D"}


def _log(level: str, message: str) -> None:
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if sys.stderr.isatty():
        tag = {"fatal": "FATA", "warning": "WARN"}.get(level, level.upper()[:4])
        sys.stderr.write(f"{tag}[0000] {message}\n")
    else:
        sys.stderr.write(f'time="{now}" level={level} msg={json.dumps(message)}\n')
    sys.stderr.flush()


def _fatal(message: str) -> int:
    _log("fatal", message)
    return 1


def _timeout(text: str) -> float:
    """A Go duration such as ``2s`` or ``500ms`` (crictl's default is 2 s)."""
    for suffix, scale in (("ms", 0.001), ("s", 1.0), ("m", 60.0)):
        if text.endswith(suffix):
            return float(text[: -len(suffix)]) * scale
    return float(text)


def _config_endpoint(path: str) -> str | None:
    try:
        lines = Path(path).read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        key, sep, value = line.partition(":")
        if sep and key.strip() == "runtime-endpoint" and value.strip():
            return value.strip().strip("\"'")
    return None


def main(argv: list[str]) -> int:
    options: dict[str, str] = {}
    rest: list[str] = []
    i = 0
    while i < len(argv):
        a = argv[i]
        key, sep, value = a.partition("=")
        if key in _VALUE_FLAGS:
            if not sep:
                i += 1
                if i >= len(argv):
                    return _fatal(f"flag needs an argument: {key}")
                value = argv[i]
            options[_VALUE_FLAGS[key]] = value
        elif a in _BOOL_FLAGS:
            pass
        elif a.startswith("-") and not rest:
            return _fatal(f"flag provided but not defined: {a}")
        else:
            rest.append(a)
        i += 1
    if not rest or rest[0] not in ("info", "version"):
        name = rest[0] if rest else ""
        sys.stderr.write(f"No help topic for '{name}' (emulated crictl: info, version)\n")
        return 3
    endpoint = (
        options.get("runtime-endpoint")
        or os.environ.get("CONTAINER_RUNTIME_ENDPOINT")
        or _config_endpoint(options.get("config", CONFIG))
    )
    if not endpoint:
        _log(
            "warning",
            "runtime connect using default endpoints: [unix:///run/containerd/containerd.sock]. "
            "As the default settings are now deprecated, you should set the endpoint instead.",
        )
        endpoint = cri.DEFAULT_ENDPOINT
    try:
        timeout = _timeout(options.get("timeout", "2s"))
    except ValueError:
        return _fatal(f'invalid value "{options["timeout"]}" for flag -timeout')
    try:
        version = cri.validate(endpoint)
        if rest[0] == "version":
            for field, label in (
                ("version", "Version"),
                ("runtimeName", "RuntimeName"),
                ("runtimeVersion", "RuntimeVersion"),
                ("runtimeApiVersion", "RuntimeApiVersion"),
            ):
                print(f"{label}:  {version.get(field, '')}")
            return 0
        try:
            info = cri.call(endpoint, "Status", timeout)
        except cri.CriUnavailable as exc:
            return _fatal(f"getting status of runtime: {exc}")
    except cri.CriUnavailable as exc:
        return _fatal(str(exc))
    print(json.dumps(info, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
