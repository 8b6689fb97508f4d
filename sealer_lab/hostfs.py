"""The files of one lab host under ``<labdir>/hosts/<host>/``, prepared on the machine before boot.

Layout of a host directory:

* ``upper/etc``, ``work/etc``: the persistent upper layer of the host's /etc overlay: its own
  ``hostname``, ``machine-id``, ``hosts``, ``passwd``, ``group``, ``shadow``, ``sudoers.d/``,
  ``ssh/``.
* ``fs/<dir>``: the persistent contents of each private directory (see :data:`PRIVATE_DIRS`).
* ``boot.json``: what :mod:`sealer_lab.hostinit` mounts and starts; ``console.log``: its output.

Files a host may have changed (hosts, passwd, shadow, ...) are written only when absent, so a
second ``up`` keeps them; the sshd configuration and authorized keys are rewritten every time.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sealer_lab.sshd import SSHD_ARGV, generate_key, render_sshd_config

__all__ = [
    "PRIVATE_DIRS",
    "HostFiles",
    "interpreter_paths",
    "prepare_host",
]

# Directories private to each host, besides /etc (an overlay) and /run (a tmpfs).
PRIVATE_DIRS: tuple[str, ...] = (
    "/root",
    "/home",
    "/tmp",
    "/usr/local/bin",
    "/var/lib/kubelet",
    "/var/lib/etcd",
    "/opt/cni",
    "/var/log",
    "/var/lib/sealer",  # where sealer keeps the offline package on a host
    "/var/lib/systemd",  # the emulated systemd's timer stamps (timers/stamp-NAME.timer)
    "/var/backups",  # spec.backup's default directory for the masters' etcd snapshots
)


@dataclass(frozen=True)
class HostFiles:
    """What :func:`prepare_host` needs to know about one host."""

    lab_dir: Path
    host_dir: Path
    hostname: str
    address: str
    ssh_port: int
    authorized_key: str
    password_login: bool
    root_password_hash: str | None
    sudo_user: str | None
    private_dirs: Sequence[str] = PRIVATE_DIRS


def _slug(path: str) -> str:
    return path.strip("/").replace("/", "-")


def _under(path: str, parent: str) -> bool:
    return path == parent or path.startswith(parent.rstrip("/") + "/")


def interpreter_paths(private_dirs: Sequence[str] = PRIVATE_DIRS) -> list[str]:
    """Real paths of this Python, of sealer and of the lab that a private directory would hide.

    The executable and prefixes, the user site directory, and the directories of the ``sealer``
    and ``sealer_lab`` packages (an editable install in a checkout under /root or /tmp must stay
    importable).
    """
    import site

    import sealer

    paths = [sys.executable, sys.prefix, sys.base_prefix, sys.exec_prefix]
    paths.append(os.path.dirname(sealer.__file__))
    paths.append(os.path.dirname(os.path.abspath(__file__)))  # sealer_lab
    paths.append(site.getusersitepackages())
    candidates = {os.path.realpath(p) for p in paths if p and os.path.exists(p)}
    hidden = sorted(c for c in candidates if any(_under(c, d) for d in private_dirs))
    kept: list[str] = []
    for path in hidden:
        if not any(_under(path, k) for k in kept):
            kept.append(path)
    return kept


def _write_once(path: Path, text: str, mode: int) -> None:
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    os.chmod(path, mode)


def _copy_with_stat(src: Path, dst: Path, text: str) -> None:
    if dst.exists():
        return
    dst.parent.mkdir(parents=True, exist_ok=True)
    dst.write_text(text)
    shutil.copystat(src, dst)
    st = src.stat()
    os.chown(dst, st.st_uid, st.st_gid)


def _free_id(lines: list[str], field: int) -> int:
    used = {int(parts[field]) for parts in (ln.split(":") for ln in lines) if len(parts) > field}
    return next(i for i in range(1000, 60000) if i not in used)


def _accounts(files: HostFiles, etc: Path) -> None:
    passwd = Path("/etc/passwd").read_text().splitlines()
    group = Path("/etc/group").read_text().splitlines()
    shadow = Path("/etc/shadow").read_text().splitlines()
    root_hash = files.root_password_hash or "*"
    shadow = [
        f"root:{root_hash}:" + ":".join(ln.split(":")[2:]) if ln.startswith("root:") else ln
        for ln in shadow
    ]
    user = files.sudo_user
    if user is not None and not any(ln.startswith(f"{user}:") for ln in passwd):
        uid = _free_id(passwd, 2)
        gid = _free_id(group, 2)
        passwd.append(f"{user}:x:{uid}:{gid}:sealer lab user:/home/{user}:/bin/bash")
        group.append(f"{user}:x:{gid}:")
        shadow.append(f"{user}:{files.root_password_hash or '*'}:19000:0:99999:7:::")
    _copy_with_stat(Path("/etc/passwd"), etc / "passwd", "\n".join(passwd) + "\n")
    _copy_with_stat(Path("/etc/group"), etc / "group", "\n".join(group) + "\n")
    _copy_with_stat(Path("/etc/shadow"), etc / "shadow", "\n".join(shadow) + "\n")
    if user is not None:
        rule = "ALL=(ALL:ALL) ALL" if files.password_login else "ALL=(ALL:ALL) NOPASSWD: ALL"
        _write_once(etc / "sudoers.d" / f"sealer-lab-{user}", f"{user} {rule}\n", 0o440)
        home = files.host_dir / "fs" / _slug("/home") / user
        _authorize(home, files.authorized_key, *_ids_of(etc / "passwd", user))


def _ids_of(passwd: Path, user: str) -> tuple[int, int]:
    for line in passwd.read_text().splitlines():
        parts = line.split(":")
        if parts[0] == user:
            return int(parts[2]), int(parts[3])
    return 0, 0


def _authorize(home: Path, key: str, uid: int, gid: int) -> None:
    ssh = home / ".ssh"
    ssh.mkdir(parents=True, exist_ok=True)
    (ssh / "authorized_keys").write_text(key.strip() + "\n")
    for path, mode in ((home, 0o700), (ssh, 0o700), (ssh / "authorized_keys", 0o600)):
        os.chmod(path, mode)
        os.chown(path, uid, gid)


def prepare_host(files: HostFiles, bind_back: Sequence[str]) -> Path:
    """Write the host's files; return the path of its ``boot.json``."""
    hd = files.host_dir
    etc = hd / "upper" / "etc"
    (hd / "work" / "etc").mkdir(parents=True, exist_ok=True)
    etc.mkdir(parents=True, exist_ok=True)
    for d in files.private_dirs:
        (hd / "fs" / _slug(d)).mkdir(parents=True, exist_ok=True)
    os.chmod(hd / "fs" / _slug("/root"), 0o700)
    os.chmod(hd / "fs" / _slug("/tmp"), 0o1777)

    _write_once(etc / "hostname", files.hostname + "\n", 0o644)
    _write_once(etc / "machine-id", secrets.token_hex(16) + "\n", 0o444)
    hosts = (
        "127.0.0.1\tlocalhost\n"
        f"{files.address}\t{files.hostname}\n"
        "::1\tlocalhost ip6-localhost ip6-loopback\n"
    )
    _write_once(etc / "hosts", hosts, 0o644)
    _accounts(files, etc)
    _authorize(hd / "fs" / _slug("/root"), files.authorized_key, 0, 0)

    ssh = etc / "ssh"
    ssh.mkdir(parents=True, exist_ok=True)
    generate_key(ssh / "ssh_host_ed25519_key", f"root@{files.hostname}")
    config = render_sshd_config(port=files.ssh_port, password_login=files.password_login)
    (ssh / "sshd_config").write_text(config)
    os.chmod(ssh / "sshd_config", 0o644)

    boot = {
        "hostname": files.hostname,
        "lab_dir": str(files.lab_dir),
        "host_dir": str(hd),
        "etc_overlay": {"upper": "upper/etc", "work": "work/etc"},
        "private": [{"source": f"fs/{_slug(d)}", "target": d} for d in files.private_dirs],
        "bind_back": list(bind_back),
        "sbin": "sbin",
        "sshd_argv": SSHD_ARGV,
        "ssh_port": files.ssh_port,
    }
    path = hd / "boot.json"
    path.write_text(json.dumps(boot, indent=2) + "\n")
    return path
