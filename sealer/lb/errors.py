"""The error the load-balancer helpers raise (a user can cause it through the Clusterfile)."""

from __future__ import annotations

from sealer.errors import SealerError

__all__ = ["LbError"]


class LbError(SealerError):
    """A load-balancer setting (VIP, masters, probe timing) or a kernel-rule fact is wrong."""
