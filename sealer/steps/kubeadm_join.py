"""Join credentials from a running master, created with kubeadm's own commands.

sealer makes the secret values itself and registers them with the connection pool's
redactor *before* any command carries them, then has kubeadm install them:
``kubeadm token create TOKEN --print-join-command`` (its output gives the CA pin, checked
against the CA sealer holds) and ``kubeadm init phase upload-certs --upload-certs
--certificate-key KEY`` (re-uploads the control-plane certificates encrypted with KEY).
So no secret ever appears unredacted in the run log, and nothing is scraped from
``kubeadm init``'s output.
"""

from __future__ import annotations

import secrets
import string

from sealer.errors import StepError
from sealer.kube.joinparse import parse_certificate_key, parse_join_command
from sealer.kube.kubeadm_config import JoinSecrets
from sealer.steps.target import Target

__all__ = ["join_secrets", "new_bootstrap_token", "new_certificate_key"]

_TOKEN_CHARS = string.ascii_lowercase + string.digits


def new_bootstrap_token() -> str:
    """``[a-z0-9]{6}.[a-z0-9]{16}``, as kubeadm makes them."""
    pick = secrets.choice
    return (
        "".join(pick(_TOKEN_CHARS) for _ in range(6))
        + "."
        + "".join(pick(_TOKEN_CHARS) for _ in range(16))
    )


def new_certificate_key() -> str:
    """32 random bytes in hex, the AES-256 key kubeadm encrypts uploaded certificates with."""
    return secrets.token_hex(32)


async def join_secrets(target: Target, api_master: str, *, control_plane: bool) -> JoinSecrets:
    creds = target.credentials
    access = target.access[api_master]
    async with creds.lock:
        if creds.token is None or creds.ca_cert_hash is None:
            token = new_bootstrap_token()
            target.conns.add_secret(token)
            result = await target.conns.run(
                access, ["kubeadm", "token", "create", token, "--print-join-command"]
            )
            join = parse_join_command(result.stdout)
            expected = target.ca.ca_cert_hash()
            if expected not in join.ca_cert_hashes:
                raise StepError(
                    "join",
                    api_master,
                    f"the cluster's CA pin {join.ca_cert_hashes[0]} is not the CA sealer holds "
                    f"({expected}): /etc/kubernetes/pki/ca.crt was replaced behind sealer's back",
                )
            creds.token, creds.ca_cert_hash = token, expected
        if control_plane and creds.certificate_key is None:
            key = new_certificate_key()
            target.conns.add_secret(key)
            result = await target.conns.run(
                access,
                [
                    "kubeadm",
                    "init",
                    "phase",
                    "upload-certs",
                    "--upload-certs",
                    "--certificate-key",
                    key,
                ],
            )
            parse_certificate_key(result.stdout)
            creds.certificate_key = key
        return JoinSecrets(
            token=creds.token,
            ca_cert_hashes=(creds.ca_cert_hash,),
            certificate_key=creds.certificate_key if control_plane else None,
        )
