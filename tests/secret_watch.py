"""What a lab test needs to show that a sealer run wrote no secret anywhere but where it must.

:class:`SecretWatch` runs beside a ``sealer apply``: it keeps every command line of this
machine (``/proc/*/cmdline`` of the root PID namespace, which sees the processes of every lab
host: what ``ps`` shows on each host, and more) and every bootstrap token the cluster holds
(read on a master with kubectl while the run goes on, since sealer deletes its token when its
joins are done). :func:`cluster_secrets` reads the key material the cluster keeps on a master
after the run; :func:`found_in` says which secret appears in which text.
"""

from __future__ import annotations

import base64
import json
import os
import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

import sealer_lab

ADMIN = ["kubectl", "--kubeconfig", "/etc/kubernetes/admin.conf"]
TOKEN_TYPE = "bootstrap.kubernetes.io/token"

__all__ = [
    "SecretWatch",
    "cluster_secrets",
    "files_under",
    "found_in",
    "kubeadm_lines",
    "token_secrets",
]
_KUBEADM = re.compile(r"\bkubeadm (join|token|init)\b")


def _cmdlines() -> set[str]:
    seen: set[str] = set()
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            raw = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue  # the process ended
        if raw:
            seen.add(raw.rstrip(b"\0").replace(b"\0", b" ").decode("utf-8", "replace"))
    return seen


def token_secrets(lab: sealer_lab.Lab, master: str) -> list[dict[str, object]]:
    """The bootstrap-token Secrets of the cluster (read with kubectl on ``master``)."""
    result = lab.run(
        master, [*ADMIN, "--namespace", "kube-system", "get", "secrets", "-o", "json"],
        check=False, timeout=30,
    )  # fmt: skip
    if result.returncode != 0:
        return []
    items: list[dict[str, object]] = json.loads(result.stdout).get("items", [])
    return [i for i in items if i.get("type") == TOKEN_TYPE]


def _token(secret: Mapping[str, object]) -> str:
    data = secret.get("data")
    assert isinstance(data, dict)
    part = {k: base64.b64decode(str(v)).decode() for k, v in data.items()}
    return f"{part['token-id']}.{part['token-secret']}"


@dataclass
class SecretWatch:
    """Use as ``with SecretWatch(lab, master) as watch:`` around a sealer run."""

    lab: sealer_lab.Lab
    master: str
    cmdlines: set[str] = field(default_factory=set)
    tokens: set[str] = field(default_factory=set)
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)

    def _watch_processes(self) -> None:
        while not self._stop.is_set():
            self.cmdlines |= _cmdlines()
            self._stop.wait(0.1)

    def _watch_tokens(self) -> None:
        while not self._stop.is_set():
            self.tokens |= {_token(s) for s in token_secrets(self.lab, self.master)}
            self._stop.wait(1.0)

    def __enter__(self) -> SecretWatch:
        for loop in (self._watch_processes, self._watch_tokens):
            thread = threading.Thread(target=loop, daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()

    def needles(self) -> dict[str, str]:
        """Each token seen, and its secret half alone, by a name that does not reveal it."""
        found: dict[str, str] = {}
        for token in sorted(self.tokens):
            token_id, secret = token.split(".")
            found[f"bootstrap token {token_id}"] = token
            found[f"secret half of bootstrap token {token_id}"] = secret
        return found


def _pem_lines(name: str, pem: str) -> dict[str, str]:
    """The base64 lines of a PEM body (each long enough to be that key's alone)."""
    lines = [line for line in pem.splitlines() if line and not line.startswith("-----")]
    return {f"{name} (line {i})": line for i, line in enumerate(lines) if len(line) >= 40}


def cluster_secrets(lab: sealer_lab.Lab, master: str) -> dict[str, str]:
    """Every private key under /etc/kubernetes/pki on ``master`` and admin.conf's client key,
    as substrings to look for (:func:`_pem_lines`)."""
    keys = lab.run(master, ["find", "/etc/kubernetes/pki", "-name", "*.key"]).stdout.split()
    assert "/etc/kubernetes/pki/ca.key" in keys and "/etc/kubernetes/pki/sa.key" in keys, keys
    needles: dict[str, str] = {}
    for path in keys:
        needles |= _pem_lines(path, lab.run(master, ["cat", "--", path]).stdout)
    admin = lab.run(master, ["cat", "/etc/kubernetes/admin.conf"]).stdout
    data = next(
        line.split(":", 1)[1].strip() for line in admin.splitlines() if "client-key-data" in line
    )
    needles |= _pem_lines("admin.conf client key", base64.b64decode(data).decode())
    needles["admin.conf client-key-data"] = data[:64]
    return needles


def found_in(needles: Mapping[str, str], texts: Mapping[str, str]) -> list[str]:
    """``"SECRET in WHERE"`` for each secret that appears in a text (empty: none does)."""
    return [
        f"{name} in {where}"
        for name, needle in needles.items()
        for where, text in texts.items()
        if needle in text
    ]


def files_under(*roots: Path) -> dict[str, str]:
    """Every file under ``roots`` by path, as text (what a run wrote on the workstation)."""
    texts: dict[str, str] = {}
    for root in roots:
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            texts[str(path)] = path.read_bytes().decode("utf-8", "replace")
    return texts


def kubeadm_lines(cmdlines: Iterable[str]) -> list[str]:
    """The ``kubeadm join|token|init`` command lines seen (sudo's and the emulator's
    interpreter's included)."""
    return sorted(line for line in cmdlines if _KUBEADM.search(line))
