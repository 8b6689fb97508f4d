"""The container runtime's own answer on its CRI socket: ``crictl --runtime-endpoint EP info``.

The kubelet refuses to start while its runtime does not answer, so a broken runtime shows up
during ``kubeadm init``/``join`` only as a kubelet that never comes up. sealer asks the runtime
itself first (:mod:`sealer.steps.runtime_check`). What counts is kubeadm's rule (its CRI
preflight check): the runtime answers and ``RuntimeReady`` is not false. ``NetworkReady`` is
false until the network add-on wrote its configuration, which is normal before ``cni``: it is
read, never judged here.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from sealer.connect import Result
from sealer.facts.base import Fact, command_missing

__all__ = ["RuntimeStatus", "crictl_message", "parse_crictl_info", "runtime_status"]


@dataclass(frozen=True)
class RuntimeStatus:
    """``answers``: the runtime served ``info`` with ``RuntimeReady`` not false (what kubeadm
    and the kubelet need); ``network_ready``: its NetworkReady condition (None when absent or
    the runtime did not answer); ``detail``: why it is not usable, in crictl's words."""

    answers: bool
    network_ready: bool | None = None
    detail: str = ""


#: logrus' text format (crictl's stderr when it is not a terminal, as over SSH).
_LOGFMT_MSG = re.compile(r'level=fatal msg="((?:[^"\\]|\\.)*)"')
#: logrus' terminal format: ``FATA[0000] message``.
_TTY_FATAL = re.compile(r"^FATA\[\d+\] (.*)$")


def crictl_message(stderr: str) -> str:
    """crictl's fatal error from its stderr (either log format), else its last line::

    time="2026-12-02T08:00:00Z" level=fatal msg="validate service connection: ..."
    FATA[0000] getting status of runtime: rpc error: ...
    """
    for line in reversed(stderr.splitlines()):
        match = _LOGFMT_MSG.search(line)
        if match:
            try:
                message: str = json.loads(f'"{match.group(1)}"')
            except ValueError:
                message = match.group(1)
            return message
        match = _TTY_FATAL.match(line.strip())
        if match:
            return match.group(1)
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def _condition(conditions: list[object], kind: str) -> dict[str, object] | None:
    for condition in conditions:
        if isinstance(condition, dict) and condition.get("type") == kind:
            return condition
    return None


def parse_crictl_info(result: Result) -> RuntimeStatus:
    """``crictl --runtime-endpoint EP info``: the runtime's status as JSON on success::

        {"status": {"conditions": [
            {"type": "RuntimeReady", "status": true, "reason": "", "message": ""},
            {"type": "NetworkReady", "status": false, "reason": "NetworkPluginNotReady",
             "message": "Network plugin returns error: cni plugin not initialized"}]},
         "cniconfig": {...}, "config": {...}, "lastCNILoadStatus": "..."}

    exit 1 and a fatal log line when the socket does not answer (no runtime, a runtime that
    serves no CRI); exit 127 when there is no crictl. Output that is not such JSON is an error
    (ValueError): sealer does not guess."""
    if command_missing(result):
        return RuntimeStatus(False, None, "crictl not found on the PATH")
    if result.exit_status != 0:
        message = crictl_message(result.stderr) or f"crictl exited {result.exit_status}"
        return RuntimeStatus(False, None, message)
    doc = json.loads(result.stdout)
    status = doc.get("status") if isinstance(doc, dict) else None
    conditions = status.get("conditions") if isinstance(status, dict) else None
    if not isinstance(conditions, list):
        raise ValueError("crictl info printed no status.conditions")
    runtime = _condition(conditions, "RuntimeReady")
    network = _condition(conditions, "NetworkReady")
    network_ready = bool(network.get("status")) if network is not None else None
    if runtime is not None and runtime.get("status") is not True:
        reason = runtime.get("reason") or ""
        why = runtime.get("message") or ""
        return RuntimeStatus(
            False, network_ready, f"RuntimeReady=false reason:{reason} message:{why}"
        )
    return RuntimeStatus(True, network_ready)


def runtime_status(endpoint: str) -> Fact[RuntimeStatus]:
    """The runtime's status on ``endpoint`` (``unix:///run/containerd/containerd.sock``)."""
    return Fact(
        "container runtime status",
        ("crictl", "--runtime-endpoint", endpoint, "info"),
        parse_crictl_info,
        timeout=60.0,
    )
