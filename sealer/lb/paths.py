"""Where the care daemon lives on every node: the reconciler installs and cleans these."""

from __future__ import annotations

from typing import Final

from sealer.lb import care

__all__ = [
    "CA_PATH",
    "CONFIG_PATH",
    "NFT_TABLE",
    "PROGRAM_PATH",
    "PYTHON_PATH",
    "UNIT_NAME",
    "UNIT_PATH",
    "VIP_LINK",
]

PROGRAM_PATH: Final = "/usr/local/bin/sealer-care"
UNIT_NAME: Final = "sealer-care.service"
UNIT_PATH: Final = "/etc/systemd/system/sealer-care.service"
CONFIG_PATH: Final = care.DEFAULT_CONFIG_PATH
CA_PATH: Final = care.DEFAULT_CA_FILE
"""sealer's own copy of the cluster CA: /etc/kubernetes/pki/ca.crt must not exist before
`kubeadm join` on a worker (its preflight refuses an existing file), but the probes need it."""
PYTHON_PATH: Final = "/usr/bin/python3"
NFT_TABLE: Final = care.NFT_TABLE
VIP_LINK: Final = care.VIP_LINK
