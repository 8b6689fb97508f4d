"""The init of one lab host: run by tini (PID 1) inside the host's fresh namespaces.

It is run as a plain script (``python -I hostinit.py BOOT_JSON``), imports nothing from sealer,
and knows nothing about Kubernetes. Given the boot description written by
:mod:`sealer_lab.hostfs`, it:

1. sets the hostname (own UTS namespace);
2. mounts a fresh tmpfs on /run (lost at every reboot);
3. makes the host's /etc an overlay of the machine's /etc with a persistent upper directory under
   the lab's directory (private /etc/hosts, /etc/kubernetes, /etc/passwd, ...);
4. makes the private directories (/root, /var/lib/kubelet, ...) bind mounts of persistent
   directories under the lab's directory; a missing mount point is created in an ephemeral
   overlay of its nearest existing ancestor so that the machine is never written;
5. binds back the Python interpreter when it lives under a private directory (e.g. pyenv in /root);
6. binds the lab-wide ``sbin`` directory read-only on /usr/local/sbin;
7. starts the system's sshd, waits until it has written its pid file and accepts connections,
   then runs ``/usr/local/sbin/lab-boot`` when it exists and is
   executable, then stays alive as ``sleep infinity`` so tini and the host live on.

Every mount is made in the host's own mount namespace (created private by ``unshare``), so
nothing here is visible on the machine or on another host.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_REMOUNT = 32
MS_BIND = 4096
MS_REC = 16384
MNT_DETACH = 2

STAGE = Path("/run/.lab")
LAB_BOOT = "/usr/local/sbin/lab-boot"
SESSION_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


class Mounter:
    """Thin wrapper over mount(2)/umount2(2) that raises OSError with the path on failure."""

    def __init__(self) -> None:
        self._libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)

    def mount(
        self, source: str | None, target: str, fstype: str | None, flags: int, data: str | None
    ) -> None:
        rc = self._libc.mount(
            None if source is None else source.encode(),
            target.encode(),
            None if fstype is None else fstype.encode(),
            ctypes.c_ulong(flags),
            None if data is None else data.encode(),
        )
        if rc != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"mount {source} on {target}: {os.strerror(err)}")

    def bind(self, source: str, target: str, *, readonly: bool = False) -> None:
        self.mount(source, target, None, MS_BIND | MS_REC, None)
        if readonly:
            self.mount(None, target, None, MS_REMOUNT | MS_BIND | MS_RDONLY, None)

    def detach(self, target: str) -> None:
        if self._libc.umount2(target.encode(), MNT_DETACH) != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"umount {target}: {os.strerror(err)}")


def _ensure_mountpoint(path: Path, *, is_file: bool) -> None:
    if is_file:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(exist_ok=True)
    else:
        path.mkdir(parents=True, exist_ok=True)


def _missing_ancestor_roots(targets: list[str]) -> list[str]:
    """The nearest existing ancestor of each missing target, shallowest first, deduplicated."""
    roots: set[str] = set()
    for target in targets:
        path = Path(target)
        if path.exists():
            continue
        ancestor = path.parent
        while not ancestor.exists():
            ancestor = ancestor.parent
        if str(ancestor) in ("/", "/run", "/proc", "/sys", "/dev"):
            raise RuntimeError(f"cannot create mount point {target}: parent {ancestor} is unsafe")
        roots.add(str(ancestor))
    ordered = sorted(roots, key=lambda p: (p.count("/"), p))
    # An ancestor already covered by a shallower overlay needs no overlay of its own.
    kept: list[str] = []
    for root in ordered:
        if not any(root == k or root.startswith(k + "/") for k in kept):
            kept.append(root)
    return kept


def _wait_for_sshd(port: int, timeout: float = 20.0) -> None:
    """Until sshd (daemonized) has written its pid file and accepts connections."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pidfile = Path("/run/sshd.pid")
        if pidfile.exists() and pidfile.read_text().strip():
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    return
            except OSError:
                pass
        time.sleep(0.02)
    raise RuntimeError(f"sshd did not start listening on port {port} within {timeout:.0f} s")


def boot(config: dict[str, Any]) -> None:
    m = Mounter()
    lab_dir: str = config["lab_dir"]
    host_dir: str = config["host_dir"]
    socket.sethostname(config["hostname"])

    # 1. A fresh /run, and a staging area in it that holds the lab directory and the
    #    interpreter paths as they are on the machine, before anything covers them.
    m.mount("tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=755")
    stage_lab = STAGE / "lab"
    stage_lab.mkdir(parents=True)
    m.bind(lab_dir, str(stage_lab))
    rel_host = os.path.relpath(host_dir, lab_dir)
    stage_host = stage_lab / rel_host
    back: list[tuple[str, str, bool]] = []
    for index, path in enumerate(config["bind_back"]):
        staged = STAGE / "back" / str(index)
        is_file = os.path.isfile(path)
        _ensure_mountpoint(staged, is_file=is_file)
        m.bind(path, str(staged))
        back.append((str(staged), path, is_file))

    # 2. /etc: overlay with a persistent upper directory.
    etc = config["etc_overlay"]
    m.mount(
        "overlay",
        "/etc",
        "overlay",
        0,
        f"lowerdir=/etc,upperdir={stage_host / etc['upper']},workdir={stage_host / etc['work']}",
    )

    # 3. Missing mount points: ephemeral overlays of their nearest existing ancestors.
    binds: list[dict[str, str]] = config["private"]
    targets = [b["target"] for b in binds] + ["/usr/local/sbin"]
    for index, root in enumerate(_missing_ancestor_roots(targets)):
        eph = STAGE / "eph" / str(index)
        (eph / "upper").mkdir(parents=True)
        (eph / "work").mkdir()
        m.mount(
            "overlay",
            root,
            "overlay",
            0,
            f"lowerdir={root},upperdir={eph / 'upper'},workdir={eph / 'work'}",
        )
        # Keep the lab directory itself real when it sits under such an overlay.
        if lab_dir == root or lab_dir.startswith(root + "/"):
            m.bind(str(stage_lab), lab_dir)

    # 4. Private directories: persistent binds.
    for bind in binds:
        target = Path(bind["target"])
        target.mkdir(parents=True, exist_ok=True)
        m.bind(str(stage_host / bind["source"]), str(target))

    # 5. The interpreter back where it was, read-only.
    for staged_back, path_back, file_back in back:
        _ensure_mountpoint(Path(path_back), is_file=file_back)
        m.bind(staged_back, path_back, readonly=True)

    # 6. The lab-wide sbin directory, read-only.
    Path("/usr/local/sbin").mkdir(parents=True, exist_ok=True)
    m.bind(str(stage_lab / config["sbin"]), "/usr/local/sbin", readonly=True)

    for staged_back, _path, _is_file in back:
        m.detach(staged_back)
    m.detach(str(stage_lab))

    # 7. sshd (daemonizes; tini, PID 1, becomes its parent), then the boot hook.
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
    env = {"PATH": SESSION_PATH, "LANG": "C.UTF-8"}
    started = subprocess.run(config["sshd_argv"], env=env, check=False, stdin=subprocess.DEVNULL)
    if started.returncode != 0:
        sshd_log = Path("/var/log/sshd.log")
        tail = sshd_log.read_text(errors="replace").splitlines()[-3:] if sshd_log.exists() else []
        raise RuntimeError(f"sshd exited with status {started.returncode}: {' | '.join(tail)}")
    _wait_for_sshd(int(config["ssh_port"]))
    Path("/run/lab-sshd-started").touch()
    if os.path.isfile(LAB_BOOT) and os.access(LAB_BOOT, os.X_OK):
        with open("/var/log/lab-boot.log", "ab") as log:
            result = subprocess.run(
                [LAB_BOOT],
                env={**env, "HOME": "/root"},
                cwd="/",
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        Path("/run/lab-boot.status").write_text(f"{result.returncode}\n")
    Path("/run/lab-booted").touch()


def main(argv: list[str]) -> int:
    config = json.loads(Path(argv[1]).read_text())
    try:
        boot(config)
    except Exception as exc:
        print(f"lab host init failed: {exc}", file=sys.stderr, flush=True)
        return 1
    sys.stdout.flush()
    os.execv("/bin/sleep", ["sleep", "infinity"])


if __name__ == "__main__":
    sys.exit(main(sys.argv))
