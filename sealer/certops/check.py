"""``sealer certs check``: read the certificate files of every master and describe them."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sealer.aio import gather_all
from sealer.certops.defaults import WARN_DAYS
from sealer.connect import Connections, HostAccess
from sealer.errors import SealerError
from sealer.kube.certcheck import FILES_TO_READ, CertRow, check_certificates
from sealer.plan.access import host_access
from sealer.spec.model import Cluster

__all__ = ["WARN_DAYS", "CertProblem", "check_masters", "problems", "read_cert_files"]

#: A certificate with fewer days left than this is reported as a warning.


async def read_cert_files(conns: Connections, access: HostAccess) -> dict[str, bytes]:
    """The files of :data:`FILES_TO_READ` that exist on the host (absolute path -> bytes).

    Kubeconfigs carry a private key: it stays in memory and only the certificate is parsed.
    """
    found = await gather_all(*(conns.read_file(access, path) for path in FILES_TO_READ))
    return {path: data for path, data in zip(FILES_TO_READ, found, strict=True) if data is not None}


async def check_masters(
    conns: Connections, cluster: Cluster, *, now: dt.datetime | None = None
) -> tuple[list[CertRow], list[CertProblem]]:
    """Rows for every certificate on every master of the Clusterfile (masters in file order),
    and an error for each master that could not be read (the others are still shown)."""
    masters = cluster.spec.master_addresses
    results = await asyncio.gather(
        *(read_cert_files(conns, host_access(cluster, address)) for address in masters),
        return_exceptions=True,
    )
    rows: list[CertRow] = []
    unread: list[CertProblem] = []
    for address, result in zip(masters, results, strict=True):
        if isinstance(result, SealerError):
            unread.append(CertProblem("error", address, "-", f"cannot read: {result.message}"))
        elif isinstance(result, BaseException):
            raise result
        else:
            try:
                rows += check_certificates(address, result, now=now)
            except SealerError as exc:
                unread.append(CertProblem("error", address, "-", exc.message))
    return rows, unread


@dataclass(frozen=True)
class CertProblem:
    """Something about one certificate the user must know: ``error`` or ``warning``."""

    severity: str
    host: str
    name: str
    message: str

    def __str__(self) -> str:
        return f"{self.host}: {self.name}: {self.message}"


def problems(
    rows: Sequence[CertRow], *, hosts: Sequence[str] = (), warn_days: int = WARN_DAYS
) -> list[CertProblem]:
    """Expired certificates and bad signatures (errors), those close to their end and masters
    without any certificate (warnings)."""
    found: list[CertProblem] = []
    seen = {row.host for row in rows}
    for host in hosts:
        if host not in seen:
            found.append(CertProblem("warning", host, "-", "no certificate found (not a master?)"))
    for row in rows:
        if row.days_left < 0:  # timedelta.days is negative as soon as the end has passed
            found.append(
                CertProblem("error", row.host, row.name, f"expired on {row.not_after:%Y-%m-%d}")
            )
        elif row.days_left < warn_days:
            found.append(
                CertProblem("warning", row.host, row.name, f"expires in {row.days_left} days")
            )
        if row.signed_by_ca_ok is False:
            found.append(
                CertProblem("error", row.host, row.name, f"not validly signed by {row.issuer}")
            )
    return found
