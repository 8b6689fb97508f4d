"""kubeadm's failure: a message printed as kubeadm prints it, exit status 1."""

from __future__ import annotations

__all__ = ["KubeadmError", "PhaseError"]


class KubeadmError(Exception):
    """Printed as kubeadm does, followed by the --v=5 hint; exit status 1."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class PhaseError(KubeadmError):
    """A workflow phase failed: ``error execution phase <phase>: <message>``."""

    def __init__(self, phase: str, message: str) -> None:
        super().__init__(f"error execution phase {phase}: {message}")
        self.phase = phase
