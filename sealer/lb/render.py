"""Pure renderers for what the reconciler installs on a node: program, config, unit."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources

from sealer.layout import (
    CARE_CA_PATH,
    CARE_CONFIG_PATH,
    CARE_PROGRAM_PATH,
    CARE_UNIT_NAME,
    CARE_UNIT_PATH,
    PYTHON_PATH,
)
from sealer.lb import care
from sealer.lb.errors import LbError

__all__ = [
    "InstallFile",
    "care_script_source",
    "enable_argv",
    "install_files",
    "render_config",
    "render_unit",
]


def care_script_source() -> bytes:
    """The daemon exactly as installed at /usr/local/bin/sealer-care (read from the package)."""
    return resources.files("sealer.lb").joinpath("care.py").read_bytes()


def render_config(
    vip: str,
    masters: Sequence[str],
    *,
    port: int = 6443,
    ca_file: str = CARE_CA_PATH,
    interval: float = 5.0,
    timeout: float = 2.0,
    fall: int = 3,
    rise: int = 2,
    backend: str = "auto",
    cert_file: str | None = None,
    key_file: str | None = None,
) -> str:
    """care.json text, validated by the daemon's own parser so it can never refuse it."""
    data: dict[str, object] = {
        "vip": vip,
        "port": port,
        "masters": list(masters),
        "ca_file": ca_file,
        "interval": interval,
        "timeout": timeout,
        "fall": fall,
        "rise": rise,
        "backend": backend,
    }
    if cert_file is not None or key_file is not None:
        data["cert_file"] = cert_file
        data["key_file"] = key_file
    try:
        care.config_from_mapping(data, "load balancer settings")
    except care.CareError as exc:
        raise LbError(str(exc)) from None
    return json.dumps(data, indent=2) + "\n"


def render_unit(
    *,
    python: str = PYTHON_PATH,
    program: str = CARE_PROGRAM_PATH,
    config: str = CARE_CONFIG_PATH,
) -> str:
    """The systemd unit. Why each line is there: docs/load-balancer.md, "The unit"."""
    for what, path in (("python", python), ("program", program), ("config", config)):
        if not path.startswith("/") or any(c.isspace() or c in "\"'\\%$" for c in path):
            raise LbError(f"sealer-care unit: {what} path {path!r} must be absolute, plain")
    return f"""\
[Unit]
Description=sealer-care: node-local load balancer VIP -> healthy Kubernetes API servers
# Ordering only: run after the firewall loaded (Debian's nftables.conf starts with
# "flush ruleset"), before kubelet and kubeadm join need the VIP.
After=systemd-modules-load.service nftables.service firewalld.service
Before=kubelet.service
StartLimitIntervalSec=0

[Service]
Type=notify
NotifyAccess=main
ExecStart={python} {program} --config {config}
ExecReload=/bin/kill -HUP $MAINPID
Restart=always
RestartSec=2
TimeoutStartSec=60
KillMode=mixed
StandardOutput=journal
StandardError=journal
LogRateLimitIntervalSec=30s
LogRateLimitBurst=200
NoNewPrivileges=yes
ProtectHome=yes
PrivateTmp=yes

[Install]
WantedBy=multi-user.target
"""


@dataclass(frozen=True)
class InstallFile:
    """One file the reconciler uploads (over SFTP), with its mode."""

    path: str
    content: bytes
    mode: int


def install_files(
    config_text: str, ca_pem: bytes, unit_text: str | None = None
) -> list[InstallFile]:
    """Every file of a node's installation, in upload order (the unit last)."""
    return [
        InstallFile(CARE_PROGRAM_PATH, care_script_source(), 0o755),
        InstallFile(CARE_CA_PATH, ca_pem, 0o644),
        InstallFile(CARE_CONFIG_PATH, config_text.encode("utf-8"), 0o644),
        InstallFile(CARE_UNIT_PATH, (unit_text or render_unit()).encode("utf-8"), 0o644),
    ]


def enable_argv() -> list[list[str]]:
    """After the files: make systemd read the unit, enable it for boot and start it now."""
    return [
        ["systemctl", "daemon-reload"],
        ["systemctl", "enable", "--now", CARE_UNIT_NAME],
    ]
