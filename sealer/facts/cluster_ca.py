"""The one reader of the cluster's CAs on a master (over SSH; the keys stay in memory).

``apply`` takes the CAs of the running cluster from it (and makes new ones when a fresh
cluster has none); ``certs renew`` issues the new leaves from them and never makes a CA.
"""

from __future__ import annotations

from sealer.connect import HostAccess, Remote
from sealer.errors import KubeError
from sealer.kube.pki import CA_SOURCE_FILES, ClusterCA
from sealer.layout import KUBERNETES_DIR

__all__ = ["MissingCAFile", "read_ca"]


class MissingCAFile(KubeError):
    """A file of the CA material is not on the host (each caller says what that means)."""

    def __init__(self, host: str, path: str) -> None:
        super().__init__(f"{host}: {path} is missing")
        self.host = host
        self.path = path


async def read_ca(remote: Remote, access: HostAccess) -> ClusterCA:
    """The CAs and the service-account key under /etc/kubernetes on ``access``.

    Raises :class:`MissingCAFile` at the first file that is not there, :class:`KubeError`
    when one is not a CA certificate or key (or not a pair)."""
    files: dict[str, bytes] = {}
    for relative in CA_SOURCE_FILES:
        path = f"{KUBERNETES_DIR}/{relative}"
        data = await remote.read_file(access, path)
        if data is None:
            raise MissingCAFile(access.label, path)
        files[relative] = data
    return ClusterCA.load(files, where=access.label)
