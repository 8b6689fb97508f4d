"""Node-local API load balancer: the sealer-care daemon and what the reconciler needs for it.

``care`` is the daemon itself (one stdlib-only file, Python >= 3.8, installed on every node);
the other modules are pure helpers for the reconciler: renderers, facts, clean list (the
daemon's paths on the nodes are in :mod:`sealer.layout`).
"""

from __future__ import annotations

from sealer.lb.care import NFT_TABLE, VIP_LINK
from sealer.lb.clean import CleanCommand, CleanPlan, clean_plan
from sealer.lb.errors import LbError
from sealer.lb.facts import (
    IPVSADM_LIST_ARGV,
    NFT_LIST_ARGV,
    IpvsRealServer,
    IpvsService,
    parse_ipvsadm,
    parse_nft_ruleset,
)
from sealer.lb.render import (
    InstallFile,
    care_script_source,
    enable_argv,
    install_files,
    render_config,
    render_unit,
)

__all__ = [
    "IPVSADM_LIST_ARGV",
    "NFT_LIST_ARGV",
    "NFT_TABLE",
    "VIP_LINK",
    "CleanCommand",
    "CleanPlan",
    "InstallFile",
    "IpvsRealServer",
    "IpvsService",
    "LbError",
    "care_script_source",
    "clean_plan",
    "enable_argv",
    "install_files",
    "parse_ipvsadm",
    "parse_nft_ruleset",
    "render_config",
    "render_unit",
]
