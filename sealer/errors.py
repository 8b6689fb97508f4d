"""The one error hierarchy of sealer.

Every layer raises a subclass of :class:`SealerError`; the CLI renders all of them in one place
(``sealer.cli.render``). Messages are one paragraph, name the file/line or host, and never contain
secrets. Anything that is not a ``SealerError`` reaching the CLI is a bug and is reported as such.

The tree (a layer that adds a class defines it next to its code, always under one of these)::

    SealerError                     exit status 1; rendered as "error: MESSAGE" (+ "hint: ...")
    ├── UsageError                  a flag or argument is wrong
    ├── SpecError                   the Clusterfile is invalid: every Problem, each rendered
    ├── ConnectError                a host cannot be reached or authenticated over SSH
    ├── CommandFailed               a remote command exited non-zero (argv, status, output)
    │   └── CommandTimedOut         ... or did not finish in time    (sealer/connect/errors.py)
    ├── TransferFailed              an SFTP upload or download failed (sealer/connect/errors.py)
    ├── FactError                   a fact's output could not be understood (sealer/facts/base.py)
    ├── PackageError                the offline package is missing or broken
    │                                                                (sealer/offline_package.py)
    ├── PlanError                   the change cannot be planned, or is refused as unsafe
    │   └── PreflightFailed         preflight found errors on hosts  (sealer/plan/preflight.py)
    ├── StepError                   a step of the plan could not be carried out ("STEP on HOST")
    ├── KubeError                   the kubeadm configuration or the PKI could not be made
    │   └── MissingCAFile           a CA file is not on the master   (sealer/facts/cluster_ca.py)
    ├── LbError                     the load balancer's rules or settings   (sealer/lb/errors.py)
    ├── LockHeld                    another run holds the cluster's run lock
    ├── LockLost                    this run's lock was taken over while it ran
    ├── ArchiveError                a backup archive cannot be written, read, decrypted or
    │                               trusted                          (sealer/dr/__init__.py)
    └── LabError                    the lab could not be built or torn down

Not in the tree, on purpose: ``facts.base.UnexpectedExit`` (a parser's signal, turned into
CommandFailed before it leaves :func:`~sealer.facts.base.collect`), and the care daemon's
``CareError`` (``sealer/lb/care.py`` is a stand-alone program on the nodes; sealer turns its
errors into LbError). The engine turns a step's error into a failed step of the run summary.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "CommandFailed",
    "ConnectError",
    "KubeError",
    "LabError",
    "LockHeld",
    "LockLost",
    "PlanError",
    "Problem",
    "SealerError",
    "SpecError",
    "StepError",
    "UsageError",
]


class SealerError(Exception):
    """Base of every error sealer reports to a user."""

    exit_code: int = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if self.hint is None else f"{self.message} ({self.hint})"


class UsageError(SealerError):
    """A command-line flag or argument is wrong."""


@dataclass(frozen=True)
class Problem:
    """One problem found in a Clusterfile: where it is and what is wrong."""

    file: str
    line: int
    column: int
    path: str
    message: str
    severity: str = "error"  # "error" or "warning"

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}"
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class SpecError(SealerError):
    """The Clusterfile is invalid; carries every problem found, not just the first."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        errors = [p for p in self.problems if p.severity == "error"]
        super().__init__("\n".join(str(p) for p in errors) or "invalid Clusterfile")


class ConnectError(SealerError):
    """A host cannot be reached or authenticated over SSH."""

    def __init__(self, host: str, message: str, *, hint: str | None = None) -> None:
        super().__init__(f"{host}: {message}", hint=hint)
        self.host = host


class CommandFailed(SealerError):
    """A remote command exited non-zero. Keeps the full argv, exit status and output."""

    def __init__(
        self, host: str, argv: Sequence[str], exit_status: int | None, stdout: str, stderr: str
    ) -> None:
        import shlex

        self.host = host
        self.argv = list(argv)
        self.exit_status = exit_status
        self.stdout = stdout
        self.stderr = stderr
        detail = (stderr or stdout).strip().splitlines()
        tail = " | ".join(detail[-5:]) if detail else "no output"
        super().__init__(
            f"{host}: `{shlex.join(self.argv)}` exited with status {exit_status}: {tail}"
        )


class StepError(SealerError):
    """A step of the plan could not be carried out (wraps the cause with the step's name)."""

    def __init__(self, step: str, host: str | None, message: str) -> None:
        where = f"{step} on {host}" if host else step
        super().__init__(f"{where}: {message}")
        self.step = step
        self.host = host


class PlanError(SealerError):
    """The desired change cannot be planned (unsupported change, unsafe removal...)."""


class KubeError(SealerError):
    """Rendering the kubeadm configuration or the PKI failed."""


class LabError(SealerError):
    """The lab (network-namespace hosts on this machine) could not be built or torn down."""


class LockHeld(SealerError):
    """Another sealer run holds the run lock of the cluster (see sealer/lock/)."""

    def __init__(self, host: str, message: str, *, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.host = host


class LockLost(SealerError):
    """This run's lock was taken over by another run while it ran; it stopped."""
