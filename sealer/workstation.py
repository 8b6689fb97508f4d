"""Where sealer keeps things on the workstation (the machine that runs sealer).

Under ``$XDG_STATE_HOME/sealer`` (``~/.local/state/sealer`` by default): run logs in ``runs/``,
etcd snapshots in ``snapshots/<cluster>/``.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["snapshot_dir", "state_home"]


def state_home() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or os.path.expanduser("~/.local/state")
    return Path(base) / "sealer"


def snapshot_dir(cluster_name: str) -> Path:
    """Where the etcd snapshots of cluster ``cluster_name`` are copied to."""
    return state_home() / "snapshots" / cluster_name
