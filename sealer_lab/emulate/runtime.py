"""Where the emulator's code lives and how one emulated program starts another."""

from __future__ import annotations

import json
import os
import sys
import zipfile
from pathlib import Path

__all__ = ["build_info", "code_root", "k8s_version", "module_argv", "module_env", "pid_alive"]

SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
DEFAULT_VERSION = "v1.29.3"
# Test hooks (documented in docs/lab-emulation.md), passed on to the programs started.
PASSED_ENV = (
    "SEALER_LAB_K8S_VERSION",
    "SEALER_SYSTEMD_RUN",
    "SEALER_SYSTEMD_UNITS",
    "SEALER_SYSTEMD_STATE",
)


def code_root() -> str:
    """The sys.path entry holding ``sealer_lab`` (the package's zip file, or the source tree):
    two levels above this module's ``sealer_lab/emulate/``, which works inside a zip too."""
    return str(Path(os.path.abspath(__file__)).parents[2])


def stable_code_root(cache: Path) -> str:
    """A copy of the code root that a later package install cannot replace under a running
    process (zipimport reads the archive by path at every import): content-addressed under
    ``cache``. From a source tree, the tree itself."""
    root = code_root()
    if not zipfile.is_zipfile(root):
        return root
    data = Path(root).read_bytes()
    import hashlib

    target = cache / f"code-{hashlib.sha256(data).hexdigest()[:16]}.zip"
    if not target.is_file():
        cache.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{os.getpid()}")
        tmp.write_bytes(data)
        os.replace(tmp, target)
    return str(target)


def build_info() -> dict[str, str]:
    """The version/arch the package was built for (``buildinfo.json`` in the zip)."""
    root = code_root()
    if zipfile.is_zipfile(root):
        with zipfile.ZipFile(root) as zf:
            try:
                data: dict[str, str] = json.loads(zf.read("buildinfo.json"))
                return data
            except KeyError:
                pass
    return {
        "version": os.environ.get("SEALER_LAB_K8S_VERSION", DEFAULT_VERSION),
        "arch": "amd64",
    }


def k8s_version() -> str:
    return build_info()["version"]


def module_argv(module: str, *args: str) -> list[str]:
    return [sys.executable, "-m", module, *args]


def module_env(extra: dict[str, str] | None = None, code: str | None = None) -> dict[str, str]:
    """A clean environment (as systemd/containers give) that can import this code."""
    env = {"PATH": SYSTEM_PATH, "LANG": "C.UTF-8", "PYTHONPATH": code or code_root()}
    for passed in PASSED_ENV:
        if passed in os.environ:
            env[passed] = os.environ[passed]
    env.update(extra or {})
    return env


def pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        with open(f"/proc/{pid}/stat") as fh:
            state = fh.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def cmdline(pid: int) -> list[str]:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return [a.decode(errors="replace") for a in fh.read().split(b"\0") if a]
    except OSError:
        return []


def start_time(pid: int) -> int:
    """The process start time in clock ticks (tells a pid reused from the one we started)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return int(fh.read().rsplit(")", 1)[1].split()[19])
    except (OSError, IndexError, ValueError):
        return -1
