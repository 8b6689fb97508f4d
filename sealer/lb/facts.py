"""Facts about a node's load-balancer rules: the command to run and a pure parser for each."""

from __future__ import annotations

from sealer.lb import care
from sealer.lb.care import IpvsRealServer, IpvsService
from sealer.lb.errors import LbError

__all__ = [
    "IPVSADM_LIST_ARGV",
    "NFT_LIST_ARGV",
    "IpvsRealServer",
    "IpvsService",
    "parse_ipvsadm",
    "parse_nft_ruleset",
]

NFT_LIST_ARGV: tuple[str, ...] = ("nft", "-j", "list", "table", "ip", care.NFT_TABLE)
"""Exit status 1 with "No such file or directory" on stderr means: no table (no rules)."""
IPVSADM_LIST_ARGV: tuple[str, ...] = ("ipvsadm", "-Ln")


def parse_nft_ruleset(json_text: str) -> list[str]:
    """Backend addresses of the VIP rule in ``nft -j list table ip sealer_care``, in map order.

    An empty list when the table holds no VIP rule. Sample output: see
    :func:`sealer.lb.care.parse_nft_json`.
    """
    try:
        state = care.parse_nft_json(json_text)
    except care.CareError as exc:
        raise LbError(f"reading nftables rules: {exc}") from None
    return [] if state is None else list(state.backends)


def parse_ipvsadm(text: str) -> list[IpvsService]:
    """Virtual services and real servers from ``ipvsadm -Ln``; sample in
    :func:`sealer.lb.care.parse_ipvsadm`."""
    try:
        return care.parse_ipvsadm(text)
    except care.CareError as exc:
        raise LbError(f"reading IPVS rules: {exc}") from None
