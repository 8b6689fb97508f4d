"""What an offline package may hold: members under ``kube/`` and nothing that leads out of it.

Checked on the workstation before the package is uploaded anywhere (the hosts unpack it as
root): :func:`member_problem` says why one ``tarfile`` member is refused, naming it, or
returns ``None``. Refused: an absolute name, a ``..`` component, a name outside ``kube/``, a
symbolic link whose target (absolute, or resolved from the link's directory) leaves ``kube/``,
a hard link to a name outside ``kube/``, and device files and FIFOs (a package installs
programs and files, never devices).

Metadata may list the sha256 of the package's files (``"sha256sums": {"bin/kubeadm": HEX}``,
paths relative to ``kube/``): :func:`metadata_sums` reads and checks that table, and the hosts
check the unpacked files against it (``sha256sum --check``).
"""

from __future__ import annotations

import posixpath
import re
import tarfile

__all__ = ["ROOT", "member_problem", "metadata_sums", "sha256sum_check_input"]

ROOT = "kube"
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def _inside(path: str) -> bool:
    """``path`` (normalised, relative) is ``kube`` or below it."""
    return path == ROOT or path.startswith(ROOT + "/")


def _clean_name(name: str) -> str | None:
    """The member's name without a leading ``./``, or None when it is absolute or has ``..``."""
    if name.startswith("/") or ".." in name.split("/"):
        return None
    while name.startswith("./"):
        name = name[2:]
    return name.rstrip("/") or "."


def member_problem(member: tarfile.TarInfo) -> str | None:
    """Why ``member`` may not be in a package, or None when it may."""
    shown = repr(member.name)
    name = _clean_name(member.name)
    if name is None:
        what = "an absolute path" if member.name.startswith("/") else "a '..' component"
        return f"member {shown} has {what}"
    if name == ".":
        return None  # the archive's own top directory entry
    if not _inside(name):
        return f"member {shown} is outside {ROOT}/"
    if member.issym():
        target = member.linkname
        resolved = posixpath.normpath(posixpath.join(posixpath.dirname(name), target))
        if target.startswith("/") or not _inside(resolved):
            return f"member {shown} is a symbolic link to {target!r}, outside {ROOT}/"
    elif member.islnk():
        linked = _clean_name(member.linkname)
        if linked is None or not _inside(linked):
            return f"member {shown} is a hard link to {member.linkname!r}, outside {ROOT}/"
    elif not (member.isfile() or member.isdir()):
        return f"member {shown} is a device file or FIFO; a package holds files and directories"
    return None


def metadata_sums(metadata: dict[str, object]) -> dict[str, str] | str:
    """Metadata's ``sha256sums`` table (relative path -> lower-case hex; empty without one),
    or why it is malformed."""
    table = metadata.get("sha256sums")
    if table is None:
        return {}
    if not isinstance(table, dict):
        return "kube/Metadata: sha256sums must be a mapping of file paths to sha256 values"
    sums: dict[str, str] = {}
    for path, value in table.items():
        clean = _clean_name(str(path))
        if clean is None or clean == "." or "\n" in clean or "\\" in clean:
            return f"kube/Metadata: sha256sums names {path!r}, not a path inside {ROOT}/"
        if not isinstance(value, str) or not _SHA256.match(value.lower()):
            return f"kube/Metadata: sha256sums[{path!r}] is not a sha256 (64 hexadecimal digits)"
        sums[clean] = value.lower()
    return sums


def sha256sum_check_input(sums: dict[str, str]) -> str:
    """The lines ``sha256sum --check`` reads on stdin (run in the unpacked ``kube/``)."""
    return "".join(f"{digest}  {path}\n" for path, digest in sorted(sums.items()))
