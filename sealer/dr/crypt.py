"""Passphrase encryption of a backup archive (pure).

The scheme, stated so that the file can be opened without sealer::

    MAGIC (b"SEALER-BACKUP-ENC1\\n", 19 bytes) | salt (16 bytes) | nonce (12 bytes) |
    AES-256-GCM ciphertext with its 16-byte tag

The key is ``scrypt(passphrase UTF-8, salt, n=2**15, r=8, p=1, length=32)`` (RFC 7914; 32 MiB
of memory per attempt). The magic and the salt are authenticated as associated data, so any
change to the file, or a wrong passphrase, fails the tag check: nothing is decrypted then.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

__all__ = [
    "MAGIC",
    "SCRYPT_N",
    "SCRYPT_P",
    "SCRYPT_R",
    "WrongPassphrase",
    "decrypt",
    "encrypt",
    "is_encrypted",
]

MAGIC = b"SEALER-BACKUP-ENC1\n"
SCRYPT_N = 2**15
SCRYPT_R = 8
SCRYPT_P = 1
_SALT = 16
_NONCE = 12


class WrongPassphrase(ValueError):
    """The tag did not verify: a wrong passphrase, or a file changed since it was written."""


def _key(passphrase: str, salt: bytes) -> bytes:
    kdf = Scrypt(salt=salt, length=32, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P)
    return kdf.derive(passphrase.encode("utf-8"))


def is_encrypted(data: bytes) -> bool:
    return data.startswith(MAGIC)


def encrypt(data: bytes, passphrase: str) -> bytes:
    if not passphrase:
        raise ValueError("the passphrase is empty")
    salt = os.urandom(_SALT)
    nonce = os.urandom(_NONCE)
    sealed = AESGCM(_key(passphrase, salt)).encrypt(nonce, data, MAGIC + salt)
    return MAGIC + salt + nonce + sealed


def decrypt(data: bytes, passphrase: str) -> bytes:
    if not is_encrypted(data):
        raise ValueError("not an encrypted sealer archive")
    body = data[len(MAGIC) :]
    if len(body) < _SALT + _NONCE + 16:
        raise WrongPassphrase("the file is too short: it was cut")
    salt, nonce, sealed = body[:_SALT], body[_SALT : _SALT + _NONCE], body[_SALT + _NONCE :]
    try:
        return AESGCM(_key(passphrase, salt)).decrypt(nonce, sealed, MAGIC + salt)
    except InvalidTag:
        raise WrongPassphrase("wrong passphrase, or the file was changed") from None
