"""Disaster recovery and access: ``sealer backup``, ``sealer restore``, ``sealer kubeconfig``.

* :mod:`~sealer.dr.crypt` (pure): the passphrase encryption of an archive (scrypt, AES-GCM);
* :mod:`~sealer.dr.archive` (pure): the archive's contents, its manifest, sha256 sums, the
  files on the workstation (0600) and their rotation;
* :mod:`~sealer.dr.etcd` (pure): etcd's snapshot status and the restore command;
* :mod:`~sealer.dr.backup`: take a verified snapshot and the CAs from a healthy master;
* :mod:`~sealer.dr.restore`: put a snapshot back on every master;
* :mod:`~sealer.dr.access`: kubeconfigs for the workstation (admin, or a short-lived user).
"""

from __future__ import annotations

from sealer.errors import SealerError

__all__ = ["ArchiveError"]


class ArchiveError(SealerError):
    """A backup archive cannot be written, read, decrypted or trusted (names the file)."""
