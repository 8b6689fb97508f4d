"""Where a lab lives on disk, what its parts are called, and its saved state (JSON).

A lab named ``NAME`` lives in ``$SEALER_LAB_DIR/NAME/`` (default ``/var/lib/sealer-lab/NAME/``).
Every kernel object it makes is named from the lab name alone (not from the directory), so that
``down`` can find and remove the leftovers of a crashed ``up`` even when ``state.json`` is lost:

* network namespaces ``sealer-<host name>`` (host names are ``<lab>-master-<n>``/``<lab>-node-<n>``)
* bridge ``slab-<id>``, host-side veths ``sv<id>h<last octet>``, nftables table ``sealer_lab_<id>``

where ``<id>`` is six hex digits of the SHA-256 of the lab name.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict

from sealer.errors import LabError

__all__ = [
    "DEFAULT_ROOT",
    "HostState",
    "LabState",
    "Role",
    "bridge_name",
    "host_name",
    "host_netns_pattern",
    "lab_dir",
    "lab_id",
    "lab_root",
    "load_state",
    "netns_name",
    "nft_table_name",
    "save_state",
    "validate_lab_name",
    "veth_name",
]

DEFAULT_ROOT = "/var/lib/sealer-lab"
_NAME_RE = re.compile(r"^[a-z][a-z0-9-]{0,29}$")

Role = Literal["master", "node"]


def validate_lab_name(name: str) -> str:
    if not _NAME_RE.fullmatch(name) or name.endswith("-") or "--" in name:
        raise LabError(
            f"lab name {name!r} is not valid: use 1 to 30 lower-case letters, digits and single "
            "dashes, starting with a letter (it becomes part of every host name)"
        )
    return name


def lab_root() -> Path:
    return Path(os.environ.get("SEALER_LAB_DIR") or DEFAULT_ROOT)


def lab_dir(name: str) -> Path:
    return lab_root() / validate_lab_name(name)


def lab_id(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()[:6]


def bridge_name(name: str) -> str:
    return f"slab-{lab_id(name)}"


def nft_table_name(name: str) -> str:
    return f"sealer_lab_{lab_id(name)}"


def veth_name(name: str, address: str) -> str:
    return f"sv{lab_id(name)}h{address.rsplit('.', 1)[1]}"


def host_name(lab: str, role: Role, index: int) -> str:
    return f"{lab}-{role}-{index}"


def netns_name(hostname: str) -> str:
    return f"sealer-{hostname}"


def host_netns_pattern(lab: str) -> re.Pattern[str]:
    """Matches exactly the network namespace names of lab ``lab``'s hosts."""
    return re.compile(rf"sealer-{re.escape(lab)}-(master|node)-[0-9]+")


class HostState(BaseModel):
    """One host of a lab, as saved."""

    model_config = ConfigDict(frozen=True)

    name: str
    role: Role
    index: int
    address: str
    netns: str
    veth: str
    ssh_port: int = 22


class LabState(BaseModel):
    """A lab, as saved in ``state.json`` (no secrets: the password is in its own 0600 file)."""

    model_config = ConfigDict(frozen=True)

    name: str
    lab_id: str
    subnet: str
    bridge: str
    nft_table: str
    version: str
    bandwidth: str | None = None
    password_login: bool = False
    sudo_user: str | None = None
    clusterfile: str | None = None
    clusterfile_sha256: str | None = None
    hosts: tuple[HostState, ...] = ()

    @property
    def gateway(self) -> str:
        return self.subnet.rsplit(".", 1)[0] + ".1"

    @property
    def prefix_len(self) -> int:
        return int(self.subnet.split("/")[1])


def load_state(name: str) -> LabState | None:
    path = lab_dir(name) / "state.json"
    try:
        text = path.read_text()
    except FileNotFoundError:
        return None
    try:
        return LabState.model_validate_json(text)
    except ValueError as exc:
        raise LabError(f"{path}: lab state is not readable: {exc}") from None


def save_state(state: LabState) -> None:
    path = lab_dir(state.name) / "state.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(state.model_dump(mode="json"), indent=2) + "\n")
    os.replace(tmp, path)
