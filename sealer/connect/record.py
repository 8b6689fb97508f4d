"""The run log: one record per remote command or transfer, with secrets replaced by ``***``.

:class:`Connections` calls a :data:`Recorder` (any callable taking a :class:`CommandRecord`) after
every command and transfer. Nothing is global: the CLI passes a :class:`JsonlRunLog` (a file) or
tests a :class:`MemoryRecorder`. Records are redacted *before* the recorder sees them, with the
:class:`Redactor` of the pool (passwords and passphrases of every host, plus whatever the caller
adds, e.g. join tokens and certificate keys).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

__all__ = ["REDACTED", "CommandRecord", "JsonlRunLog", "MemoryRecorder", "Recorder", "Redactor"]

REDACTED = "***"


class Redactor:
    """A set of secret strings; :meth:`redact` replaces each occurrence with ``***``."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: set[str] = set()
        for secret in secrets:
            self.add(secret)

    def add(self, secret: str) -> None:
        # Very short strings would blank out ordinary output; a secret that short is no secret.
        if len(secret) >= 3:
            self._secrets.add(secret)

    def __contains__(self, secret: object) -> bool:
        return secret in self._secrets

    def redact(self, text: str) -> str:
        # Longest first, so a secret containing another one is replaced whole.
        for secret in sorted(self._secrets, key=len, reverse=True):
            if secret in text:
                text = text.replace(secret, REDACTED)
        return text

    def redact_argv(self, argv: Sequence[str]) -> list[str]:
        return [self.redact(a) for a in argv]


@dataclass(frozen=True)
class CommandRecord:
    """One command or transfer as it appears in the run log (already redacted).

    ``kind`` is ``"run"``, ``"put"`` or ``"get"``. For ``run``: ``argv`` and ``command`` (the
    rendered shell string), ``exit_status`` (``None`` when it did not finish), ``stdout``,
    ``stderr``. For transfers: ``path`` (remote), ``size`` and ``sha256`` of the content.
    ``error`` says why it did not finish (timeout, lost connection).
    """

    host: str
    kind: str
    elapsed: float
    argv: tuple[str, ...] = ()
    command: str = ""
    exit_status: int | None = None
    stdout: str = ""
    stderr: str = ""
    path: str = ""
    size: int | None = None
    sha256: str = ""
    error: str = ""
    input_size: int | None = None
    extra: dict[str, str] = field(default_factory=dict)

    def redacted(self, redactor: Redactor) -> CommandRecord:
        return replace(
            self,
            argv=tuple(redactor.redact_argv(self.argv)),
            command=redactor.redact(self.command),
            stdout=redactor.redact(self.stdout),
            stderr=redactor.redact(self.stderr),
            path=redactor.redact(self.path),
            error=redactor.redact(self.error),
        )

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


Recorder = Callable[[CommandRecord], None]


class MemoryRecorder:
    """Keeps records in a list (tests, and the CLI's ``--output json`` summary)."""

    def __init__(self) -> None:
        self.records: list[CommandRecord] = []

    def __call__(self, record: CommandRecord) -> None:
        self.records.append(record)


class JsonlRunLog:
    """Appends one JSON object per record to ``path`` (created with mode 0600)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600, exist_ok=True)

    def __call__(self, record: CommandRecord) -> None:
        line = json.dumps(record.to_dict(), sort_keys=True) + "\n"
        with self._lock, self.path.open("a", encoding="utf-8") as handle:
            handle.write(line)
