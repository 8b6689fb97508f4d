"""Join credentials: a bootstrap token sealer makes, hands over in files, and deletes after.

sealer makes the token itself and registers it with the connection pool's redactor *before*
any command or file carries it. It reaches kubeadm only through 0600 files sent over SFTP and
removed after use, never through a command line (where any local user reads it in ``ps``):

* on master0's init, in the InitConfiguration's ``bootstrapTokens`` (:func:`run_secrets`), so
  the token ``kubeadm init`` creates is sealer's, not one only kubeadm's output would show;
* on a running cluster, in the InitConfiguration ``kubeadm token create --config FILE
  --print-join-command`` reads on the API master (its output gives the CA pin, checked
  against the CA sealer holds).

There is no certificate key: sealer copies the shared control-plane certificates to each
master itself, so nothing is uploaded to the ``kubeadm-certs`` Secret. When the run's joins
are done, :func:`revoke_join_secrets` deletes the token (``kubeadm token delete -- ID``) and
any ``kubeadm-certs`` Secret (one left by an earlier ``--upload-certs``).
"""

from __future__ import annotations

import secrets
import string

from sealer.errors import SealerError, StepError
from sealer.kube.joinparse import parse_join_command
from sealer.kube.kubeadm_config import JoinSecrets, render_token_config
from sealer.layout import KUBEADM_TOKEN_CONFIG_PATH, SEALER_KUBE_DIR
from sealer.steps.api_master import api_master, kubectl
from sealer.steps.target import Target

__all__ = [
    "CERTS_SECRET",
    "join_secrets",
    "new_bootstrap_token",
    "revoke_join_secrets",
    "run_secrets",
]

_TOKEN_CHARS = string.ascii_lowercase + string.digits

#: The Secret ``kubeadm init --upload-certs`` stores the encrypted control-plane certificates in.
CERTS_SECRET = "kubeadm-certs"


def new_bootstrap_token() -> str:
    """``[a-z0-9]{6}.[a-z0-9]{16}``, as kubeadm makes them."""
    pick = secrets.choice
    return (
        "".join(pick(_TOKEN_CHARS) for _ in range(6))
        + "."
        + "".join(pick(_TOKEN_CHARS) for _ in range(16))
    )


def _fresh_token(target: Target) -> str:
    token = new_bootstrap_token()
    target.conns.add_secret(token)  # before anything carries it
    target.conns.add_secret(token.split(".")[1])
    return token


async def run_secrets(target: Target) -> JoinSecrets:
    """The credentials of this run for ``kubeadm init``: a new token that init creates from
    its configuration file, and the CA pin of the CA sealer holds (and has just written)."""
    creds = target.credentials
    async with creds.lock:
        if creds.token is None:
            creds.token = _fresh_token(target)
        creds.ca_cert_hash = target.ca.ca_cert_hash()
        return JoinSecrets(token=creds.token, ca_cert_hashes=(creds.ca_cert_hash,))


async def join_secrets(target: Target, master: str) -> JoinSecrets:
    """The credentials of this run for ``kubeadm join``, made on ``master`` the first time."""
    creds = target.credentials
    access = target.access[master]
    async with creds.lock:
        if creds.token is None or creds.ca_cert_hash is None:
            token = _fresh_token(target)
            config = render_token_config(target.cluster, token).encode()
            await target.conns.run(access, ["mkdir", "-p", SEALER_KUBE_DIR])
            await target.conns.put(access, config, KUBEADM_TOKEN_CONFIG_PATH, mode=0o600)
            try:
                result = await target.conns.run(
                    access,
                    [
                        "kubeadm", "token", "create",
                        "--config", KUBEADM_TOKEN_CONFIG_PATH, "--print-join-command",
                    ],
                )  # fmt: skip
            finally:
                await target.conns.run(
                    access, ["rm", "-f", "--", KUBEADM_TOKEN_CONFIG_PATH], check=False
                )
            creds.token = token
            join = parse_join_command(result.stdout)
            if join.token != token:
                raise StepError(
                    "join",
                    master,
                    "kubeadm token create printed a join command for another token than the "
                    "one in its configuration file",
                )
            expected = target.ca.ca_cert_hash()
            if expected not in join.ca_cert_hashes:
                raise StepError(
                    "join",
                    master,
                    f"the cluster's CA pin {join.ca_cert_hashes[0]} is not the CA sealer holds "
                    f"({expected}): /etc/kubernetes/pki/ca.crt was replaced behind sealer's back",
                )
            creds.ca_cert_hash = expected
        return JoinSecrets(token=creds.token, ca_cert_hashes=(creds.ca_cert_hash,))


async def revoke_join_secrets(target: Target) -> list[str]:
    """Delete the bootstrap token this run made and any ``kubeadm-certs`` Secret, through
    the master that serves the cluster. Returns what could not be done (warnings: the token
    expires on its own after :data:`~sealer.kube.kubeadm_config.BOOTSTRAP_TOKEN_TTL`)."""
    token = target.credentials.token
    if token is None:
        return []
    master = api_master(target)
    access = target.access[master]
    token_id = token.split(".")[0]
    commands: list[list[str]] = [
        ["kubeadm", "token", "delete", "--", token_id],
        kubectl(
            "--namespace",
            "kube-system",
            "delete",
            "secret",
            "--ignore-not-found",
            "--",
            CERTS_SECRET,
        ),
    ]
    problems: list[str] = []
    for argv in commands:
        try:
            result = await target.conns.run(access, argv, check=False)
        except SealerError as exc:
            problems.append(f"{master}: {' '.join(argv[:3])}: {exc}")
            continue
        if not result.ok and "not found" not in result.stderr:
            detail = (result.stderr or result.stdout).strip()[-300:]
            problems.append(f"{master}: `{' '.join(argv[:4])}` failed: {detail}")
        elif argv[1] == "token":
            target.credentials.token = None
    return problems
