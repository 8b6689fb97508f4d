"""Certificate operations on a running cluster over SSH: ``sealer certs check`` and ``renew``.

The certificates themselves are computed in :mod:`sealer.kube.pki` (pure); this package reads
them from the masters, and replaces them one master at a time (docs/pki.md).
"""

from sealer.certops.check import WARN_DAYS, CertProblem, check_masters, problems, read_cert_files
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
