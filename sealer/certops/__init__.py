"""Certificate operations on a running cluster over SSH: ``sealer certs check`` and ``renew``.

The certificates themselves are computed in :mod:`sealer.kube.pki` (pure); this package reads
them from the masters, and replaces them one master at a time (docs/pki.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sealer.lazy import lazy_exports

if TYPE_CHECKING:
    from sealer.certops.check import (
        WARN_DAYS,
        CertProblem,
        check_masters,
        problems,
        read_cert_files,
    )
    from sealer.certops.renew import (
        MasterHealth,
        MasterRenewal,
        RenewEvent,
        RenewOptions,
        check_health,
        read_cluster_ca,
        refusal,
    )
    from sealer.certops.renew_chain import renew_masters
    from sealer.certops.sans import missing_from_cert_sans, normalise_san, parse_extra_sans

__all__ = [
    "WARN_DAYS",
    "CertProblem",
    "MasterHealth",
    "MasterRenewal",
    "RenewEvent",
    "RenewOptions",
    "check_health",
    "check_masters",
    "missing_from_cert_sans",
    "normalise_san",
    "parse_extra_sans",
    "problems",
    "read_cert_files",
    "read_cluster_ca",
    "refusal",
    "renew_masters",
]

# Imported on first use (sealer/lazy.py).
__getattr__ = lazy_exports(
    __name__,
    {
        "WARN_DAYS": "sealer.certops.check",
        "CertProblem": "sealer.certops.check",
        "check_masters": "sealer.certops.check",
        "problems": "sealer.certops.check",
        "read_cert_files": "sealer.certops.check",
        "MasterHealth": "sealer.certops.renew",
        "MasterRenewal": "sealer.certops.renew",
        "RenewEvent": "sealer.certops.renew",
        "RenewOptions": "sealer.certops.renew",
        "check_health": "sealer.certops.renew",
        "read_cluster_ca": "sealer.certops.renew",
        "refusal": "sealer.certops.renew",
        "renew_masters": "sealer.certops.renew_chain",
        "missing_from_cert_sans": "sealer.certops.sans",
        "normalise_san": "sealer.certops.sans",
        "parse_extra_sans": "sealer.certops.sans",
    },
)
