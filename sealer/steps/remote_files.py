"""Writing file maps to a host over SFTP (the only way file contents reach a host)."""

from __future__ import annotations

from collections.abc import Mapping

from sealer.kube.pki import PkiFile
from sealer.layout import KUBERNETES_DIR
from sealer.steps.target import Target

__all__ = ["upload_kubernetes_files"]


async def upload_kubernetes_files(
    target: Target, host: str, files: Mapping[str, PkiFile], *, keep_existing: bool = False
) -> int:
    """Write ``files`` (paths relative to /etc/kubernetes) with their modes; return how many
    were written. ``keep_existing`` leaves files that already exist alone."""
    access = target.access[host]
    parents = sorted({f"{KUBERNETES_DIR}/{p}".rsplit("/", 1)[0] for p in files})
    await target.conns.run(access, ["mkdir", "-p", *parents])
    written = 0
    for relative, item in sorted(files.items()):
        path = f"{KUBERNETES_DIR}/{relative}"
        if keep_existing:
            probe = await target.conns.run(access, ["test", "-e", path], check=False)
            if probe.ok:
                continue
        await target.conns.put(access, item.content, path, mode=item.mode)
        written += 1
    return written
