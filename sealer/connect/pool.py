"""One SSH connection per host for the whole run, shared by every command and transfer.

:class:`Connections` is an async context manager. Connections open lazily on first use (through
the jump host when one is set), are reused by every later :meth:`~Connections.run`,
:meth:`~Connections.put`, :meth:`~Connections.get` and :meth:`~Connections.read_file`, and are
closed on exit. Bounds: ``concurrency`` commands in flight over all hosts, ``upload_concurrency``
SFTP transfers, ``channels_per_host`` sessions on one connection (sshd's MaxSessions is 10).

Failures are translated here, at the boundary, into :mod:`sealer.errors`: asyncssh and socket
errors while connecting become :class:`~sealer.errors.ConnectError` (retried with backoff only for
network-level failures), a non-zero exit becomes :class:`~sealer.errors.CommandFailed`. A command
is never re-run: if the connection drops while it runs, a ConnectError says it may or may not have
taken effect. A host that could not be reached keeps its ConnectError for the rest of the run
(the next call fails at once instead of waiting for the same timeouts again).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import secrets
import socket
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from types import TracebackType

import asyncssh

from sealer.connect.command import render
from sealer.connect.defaults import REMOTE_LOCALE
from sealer.connect.errors import CommandTimedOut, TransferFailed
from sealer.connect.hostkeys import HostKeyCheck, KnownHosts, known_hosts_pattern
from sealer.connect.record import CommandRecord, Recorder, Redactor
from sealer.connect.settings import HostAccess, PoolOptions
from sealer.errors import CommandFailed, ConnectError

__all__ = ["HOME_STAGED_PATTERN", "STAGED_PATTERN", "Connections", "Result"]

#: What an interrupted :meth:`Connections.put` can leave behind (``find -name`` patterns): the
#: staged file next to its target, and for sudo users the upload in their home directory.
STAGED_PATTERN = ".*.sealer-*"
HOME_STAGED_PATTERN = ".sealer-upload-*"

_CHUNK = 4 * 1024 * 1024
#: Session-open refusals that mean "no free session right now" (sshd answers "open failed").
_RETRY_OPEN = frozenset(
    {
        asyncssh.OPEN_ADMINISTRATIVELY_PROHIBITED,
        asyncssh.OPEN_CONNECT_FAILED,
        asyncssh.OPEN_RESOURCE_SHORTAGE,
    }
)


@dataclass(frozen=True)
class Result:
    """What a finished remote command produced (output decoded as UTF-8, invalid bytes replaced)."""

    exit_status: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.exit_status == 0


@dataclass(frozen=True)
class _Raw:
    exit_status: int | None
    stdout: bytes
    stderr: bytes


def _decode(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


class Connections:
    """The SSH connections of one run. Use as ``async with Connections(options) as conns:``."""

    def __init__(
        self,
        options: PoolOptions | None = None,
        *,
        recorder: Recorder | None = None,
        redactor: Redactor | None = None,
    ) -> None:
        self.options = options or PoolOptions()
        self.redactor = redactor or Redactor()
        self._recorder = recorder
        self._known = KnownHosts(
            self.options.known_hosts,
            self.options.pinned_known_hosts,
            self.options.accept_new_host_keys,
        )
        self._commands = asyncio.Semaphore(self.options.concurrency)
        self._uploads = asyncio.Semaphore(self.options.upload_concurrency)
        self._channels: dict[HostAccess, asyncio.Semaphore] = {}
        self._locks: dict[HostAccess, asyncio.Lock] = {}
        self._conns: dict[HostAccess, asyncssh.SSHClientConnection] = {}
        self._failed: dict[HostAccess, ConnectError] = {}
        self._closed = False
        #: Number of SSH connections opened so far (jump hosts included).
        self.opened = 0

    async def __aenter__(self) -> Connections:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Close every connection (targets before the jump hosts they tunnel through)."""
        self._closed = True
        conns = list(self._conns.items())
        self._conns.clear()
        for _host, conn in sorted(conns, key=lambda item: _depth(item[0]), reverse=True):
            conn.close()
            with contextlib.suppress(OSError, asyncssh.Error):
                await conn.wait_closed()

    def add_secret(self, secret: str) -> None:
        """Redact ``secret`` from every later record and error of this pool."""
        self.redactor.add(secret)

    # -- connecting -------------------------------------------------------------------------

    def _host_lock(self, host: HostAccess) -> asyncio.Lock:
        return self._locks.setdefault(host, asyncio.Lock())

    def _host_channels(self, host: HostAccess) -> asyncio.Semaphore:
        sem = self._channels.get(host)
        if sem is None:
            sem = self._channels[host] = asyncio.Semaphore(self.options.channels_per_host)
        return sem

    async def connect(self, host: HostAccess) -> None:
        """Open the connection to ``host`` now (raises ConnectError); later calls reuse it."""
        await self._connection(host)

    async def _connection(self, host: HostAccess) -> asyncssh.SSHClientConnection:
        if self._closed:
            raise RuntimeError("Connections is closed")
        conn = self._conns.get(host)
        if conn is not None:
            return conn
        async with self._host_lock(host):
            conn = self._conns.get(host)
            if conn is not None:
                return conn
            failed = self._failed.get(host)
            if failed is not None:
                raise failed
            for secret in host.secrets():
                self.redactor.add(secret)
            try:
                conn = await self._open(host)
            except ConnectError as exc:
                self._failed[host] = exc
                raise
            self._conns[host] = conn
            return conn

    def _client_keys(self, host: HostAccess) -> list[asyncssh.SSHKey] | None:
        if host.private_key is None:
            return None
        path = host.private_key.expanduser()
        passphrase = host.passphrase.reveal() if host.passphrase is not None else None
        try:
            key = asyncssh.read_private_key(path, passphrase)
        except FileNotFoundError:
            raise ConnectError(host.label, f"private key {path} does not exist") from None
        except (OSError, ValueError, asyncssh.KeyImportError) as exc:
            # KeyEncryptionError (a ValueError): bad passphrase, or bcrypt missing for
            # passphrase-protected OpenSSH-format keys.
            reason = self.redactor.redact(str(exc))
            hint = (
                "check the passphrase"
                if host.passphrase is not None
                else "the key may need a passphrase"
            )
            raise ConnectError(
                host.label, f"cannot load private key {path}: {reason}", hint=hint
            ) from None
        return [key]

    def _tried(self, host: HostAccess) -> str:
        if host.private_key is not None:
            tried = [f"key {host.private_key}"]
        else:
            tried = ["default keys and agent" if host.agent else "default keys"]
        if host.password is not None:
            tried.append("password")
        return ", ".join(tried)

    async def _open(self, host: HostAccess) -> asyncssh.SSHClientConnection:
        tunnel = await self._connection(host.jump) if host.jump is not None else None
        keys = self._client_keys(host)
        via = f" via jump host {host.jump.label}" if host.jump is not None else ""
        where = f"{host.address}:{host.port}{via}"
        attempts = self.options.connect_retries + 1
        started = time.monotonic()
        last: BaseException | None = None
        for attempt in range(attempts):
            if attempt:
                await asyncio.sleep(self.options.retry_backoff * 2 ** (attempt - 1))
            check = HostKeyCheck(self._known, self._known.load(), host.address)
            kwargs: dict[str, object] = {}
            if keys is not None:
                kwargs["client_keys"] = keys
            if host.password is not None:
                kwargs["password"] = host.password.reveal()
            if not host.agent:
                kwargs["agent_path"] = None
            try:
                conn, _ = await asyncssh.create_connection(
                    lambda check=check: check,  # type: ignore[misc]
                    host.address,
                    host.port,
                    tunnel=tunnel if tunnel is not None else (),
                    config=None,
                    username=host.user,
                    known_hosts=check.db,
                    connect_timeout=host.connect_timeout,
                    keepalive_interval=host.keepalive_interval,
                    keepalive_count_max=host.keepalive_count_max,
                    preferred_auth=("publickey", "keyboard-interactive", "password"),
                    **kwargs,
                )
            except asyncssh.PermissionDenied:
                self._record_connect(host, started, "authentication failed")
                raise ConnectError(
                    host.label,
                    f"authentication failed for user {host.user} at {where} "
                    f"(tried: {self._tried(host)})",
                ) from None
            except asyncssh.HostKeyNotVerifiable as exc:
                self._record_connect(host, started, "host key not verified")
                raise self._host_key_error(host, check, str(exc)) from None
            except (OSError, TimeoutError, asyncssh.ConnectionLost) as exc:
                last = exc
                continue
            except asyncssh.DisconnectError as exc:
                self._record_connect(host, started, exc.reason)
                raise ConnectError(
                    host.label, f"SSH handshake with {where} failed: {exc.reason}"
                ) from None
            except asyncssh.ChannelOpenError as exc:
                # Opening the tunnel through the jump host failed.
                self._record_connect(host, started, exc.reason)
                raise ConnectError(
                    host.label,
                    f"the jump host could not open a connection to {where}: {exc.reason}",
                ) from None
            self.opened += 1
            self._record_connect(host, started, "")
            return conn
        assert last is not None
        message = self._network_message(last, where, host, attempts)
        self._record_connect(host, started, message)
        raise ConnectError(host.label, message) from None

    def _network_message(
        self, exc: BaseException, where: str, host: HostAccess, attempts: int
    ) -> str:
        tries = f" ({attempts} attempts)" if attempts > 1 else ""
        if isinstance(exc, socket.gaierror):
            return f"cannot resolve host name {host.address!r} ({exc.strerror}){tries}"
        if isinstance(exc, ConnectionRefusedError):
            return f"connection to {where} refused: is sshd running on that port?{tries}"
        if isinstance(exc, TimeoutError):
            return (
                f"no SSH connection to {where} within {host.connect_timeout:g} s: the host is "
                f"down, unreachable or filtered{tries}"
            )
        if isinstance(exc, asyncssh.ConnectionLost):
            return f"{where} closed the connection during the SSH handshake{tries}"
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        return f"cannot connect to {where}: {reason}{tries}"

    def _host_key_error(self, host: HostAccess, check: HostKeyCheck, reason: str) -> ConnectError:
        pattern = known_hosts_pattern(host.address, host.port)
        verdict = check.verdict
        if verdict is not None and verdict.kind == "changed":
            return ConnectError(
                host.label,
                f"host key CHANGED: known_hosts has {', '.join(verdict.known)} for {pattern}, "
                f"the host presented {verdict.presented}; refusing to connect (the host was "
                "reinstalled, or someone is intercepting the connection)",
                hint=f"if the change is expected, remove {pattern} from the known_hosts files",
            )
        if verdict is not None:
            files = ", ".join(str(p) for p in (*self._known.files, self._known.pinned))
            return ConnectError(
                host.label,
                f"host key {verdict.presented} of {pattern} is not in known_hosts ({files})",
                hint="pass --accept-new-host-keys to pin it on first use, or add it with "
                f"ssh-keyscan -p {host.port} {host.address}",
            )
        return ConnectError(host.label, f"host key not verified: {reason}")

    def _record_connect(self, host: HostAccess, started: float, error: str) -> None:
        if self._recorder is None:
            return
        record = CommandRecord(
            host=host.label,
            kind="connect",
            elapsed=time.monotonic() - started,
            error=error,
            extra={"user": host.user, "via": host.jump.label if host.jump else ""},
        )
        self._recorder(record.redacted(self.redactor))

    def _drop(self, host: HostAccess, conn: asyncssh.SSHClientConnection) -> None:
        if self._conns.get(host) is conn:
            del self._conns[host]
        conn.close()

    # -- commands ---------------------------------------------------------------------------

    async def _exec(
        self,
        host: HostAccess,
        argv: Sequence[str],
        command: str,
        *,
        input: bytes | None,
        timeout: float | None,
        record_stdout: bool = True,
    ) -> _Raw:
        """Run ``command``; the run log gets its stdout, or with ``record_stdout=False`` (a
        file's content) only the size and sha256 of it."""
        started = time.monotonic()
        record = CommandRecord(
            host=host.label,
            kind="run",
            elapsed=0.0,
            argv=tuple(argv),
            command=command,
            input_size=len(input) if input is not None else None,
        )
        async with self._host_channels(host), self._commands:
            conn = await self._connection(host)
            try:
                proc = await self._open_session(conn, command)
            except asyncssh.ChannelOpenError as exc:
                self._emit(record, started, error=f"cannot open a session: {exc.reason}")
                raise ConnectError(
                    host.label,
                    f"cannot open an SSH session: {exc.reason}",
                    hint="sshd's MaxSessions may be lower than channels_per_host",
                ) from None
            except (asyncssh.DisconnectError, OSError) as exc:
                self._drop(host, conn)
                self._emit(record, started, error=f"connection lost: {exc}")
                raise self._lost(host, argv) from None
            finished = False
            try:
                if not input:
                    # asyncssh sends EOF only after input: without it a command that reads
                    # stdin (kubectl asking for a username, say) would wait forever.
                    proc.stdin.write_eof()
                out, err = await asyncio.wait_for(proc.communicate(input or None), timeout)
                finished = True
            except TimeoutError:
                self._emit(record, started, error=f"timed out after {timeout} s")
                raise CommandTimedOut(
                    host.label,
                    self.redactor.redact_argv(argv),
                    timeout or 0.0,
                    "",
                    "",
                ) from None
            except asyncio.CancelledError:
                self._emit(record, started, error="cancelled")
                raise
            except (asyncssh.DisconnectError, OSError) as exc:
                finished = True
                self._drop(host, conn)
                self._emit(record, started, error=f"connection lost: {exc}")
                raise self._lost(host, argv) from None
            finally:
                if not finished:
                    _terminate(proc)
                proc.close()
            # Hold the host's channel slot until sshd has freed the session (MaxSessions).
            with contextlib.suppress(OSError, asyncssh.Error):
                await proc.wait_closed()
            if proc.returncode is None:
                # The channel closed without an exit status or signal: the connection dropped.
                if conn.is_closed():
                    self._drop(host, conn)
                self._emit(record, started, error="connection lost")
                raise self._lost(host, argv)
        raw = _Raw(proc.returncode, bytes(out or b""), bytes(err or b""))
        if not record_stdout:
            record = replace(
                record, size=len(raw.stdout), sha256=hashlib.sha256(raw.stdout).hexdigest()
            )
        self._emit(
            record,
            started,
            exit_status=raw.exit_status,
            stdout=_decode(raw.stdout) if record_stdout else "",
            stderr=_decode(raw.stderr),
        )
        return raw

    async def _open_session(
        self, conn: asyncssh.SSHClientConnection, command: str
    ) -> asyncssh.SSHClientProcess[bytes]:
        """Open a session channel running ``command``.

        sshd frees a session slot a little after the client saw the previous channel close, so
        a burst of commands can briefly find all MaxSessions slots taken ("open failed"). The
        command never started then, so opening again after a short pause is safe.
        """
        delay = 0.02
        for _attempt in range(20):  # about 8 s in all
            try:
                return await conn.create_process(command, encoding=None)
            except asyncssh.ChannelOpenError as exc:
                if exc.code not in _RETRY_OPEN or conn.is_closed():
                    raise
                await asyncio.sleep(delay)
                delay = min(delay * 2, 0.5)
        return await conn.create_process(command, encoding=None)

    def _lost(self, host: HostAccess, argv: Sequence[str]) -> ConnectError:
        import shlex

        shown = shlex.join(self.redactor.redact_argv(argv))
        return ConnectError(
            host.label,
            f"the connection was lost while `{shown}` ran; it may or may not have taken effect",
        )

    def _emit(
        self,
        record: CommandRecord,
        started: float,
        *,
        exit_status: int | None = None,
        stdout: str = "",
        stderr: str = "",
        error: str = "",
    ) -> None:
        if self._recorder is None:
            return
        done = replace(
            record,
            elapsed=time.monotonic() - started,
            exit_status=exit_status,
            stdout=stdout,
            stderr=stderr,
            error=error,
        )
        self._recorder(done.redacted(self.redactor))

    def _command(
        self,
        host: HostAccess,
        argv: Sequence[str],
        sudo: bool | None,
        cwd: str | None,
        env: Mapping[str, str] | None,
    ) -> str:
        wanted = {"LC_ALL": REMOTE_LOCALE, **(env or {})}
        return render(argv, sudo=host.use_sudo if sudo is None else sudo, cwd=cwd, env=wanted)

    async def run(
        self,
        host: HostAccess,
        argv: Sequence[str],
        *,
        check: bool = True,
        input: str | bytes | None = None,
        timeout: float | None = None,
        cwd: str | None = None,
        env: Mapping[str, str] | None = None,
        sudo: bool | None = None,
    ) -> Result:
        """Run ``argv`` on ``host`` and return its :class:`Result`.

        ``sudo=None`` follows the host (sudo for non-root users); ``check`` raises
        :class:`~sealer.errors.CommandFailed` on a non-zero exit; ``input`` is written to stdin
        (never logged, only its size); ``timeout`` (default: the pool's ``command_timeout``)
        stops the command and raises :class:`~sealer.connect.errors.CommandTimedOut`. Every
        command runs with ``LC_ALL=C``.
        """
        command = self._command(host, argv, sudo, cwd, env)
        data = input.encode("utf-8") if isinstance(input, str) else input
        bound = self.options.command_timeout if timeout is None else timeout
        raw = await self._exec(host, argv, command, input=data, timeout=bound)
        result = Result(
            raw.exit_status if raw.exit_status is not None else -1,
            _decode(raw.stdout),
            _decode(raw.stderr),
        )
        if check and raw.exit_status != 0:
            raise self._failure(host, argv, raw.exit_status, result.stdout, result.stderr)
        return result

    def _failure(
        self, host: HostAccess, argv: Sequence[str], status: int | None, out: str, err: str
    ) -> CommandFailed:
        r = self.redactor
        return CommandFailed(host.label, r.redact_argv(argv), status, r.redact(out), r.redact(err))

    # -- files ------------------------------------------------------------------------------

    async def put(
        self,
        host: HostAccess,
        source: Path | bytes,
        remote_path: str,
        *,
        mode: int = 0o644,
        parents: bool = False,
        sudo: bool | None = None,
    ) -> str:
        """Write ``source`` (a local file or bytes) to ``remote_path`` atomically; return sha256.

        Without sudo: SFTP writes ``.NAME.sealer-XXXX`` next to the target, sets ``mode`` and
        renames it over the target (posix-rename), so readers see the old or the new file, never
        a partial one. With sudo (non-root users): SFTP writes a temporary file in the user's home,
        then ``sudo -n -- install -m MODE tmp DIR/.NAME.sealer-XXXX`` and ``sudo -n -- mv -f``
        onto the target (root-owned, same atomic rename), and the temporary file is removed.
        """
        use_sudo = host.use_sudo if sudo is None else sudo
        target = PurePosixPath(remote_path)
        if not target.is_absolute():
            raise ValueError(f"remote path must be absolute: {remote_path}")
        token = secrets.token_hex(4)
        staged = str(target.parent / f".{target.name}.sealer-{token}")
        if parents:
            await self.run(host, ["mkdir", "-p", "--", str(target.parent)], sudo=use_sudo)
        if not use_sudo:
            return await self._upload(host, source, staged, remote_path, mode)
        home_tmp = f".sealer-upload-{token}"
        digest = await self._upload(host, source, home_tmp, None, 0o600)
        try:
            tmp_abs = await self._realpath(host, home_tmp)
            await self.run(
                host, ["install", "-m", f"{mode:04o}", "-T", "--", tmp_abs, staged], sudo=True
            )
            try:
                await self.run(host, ["mv", "-f", "-T", "--", staged, remote_path], sudo=True)
            except BaseException:
                await self.run(host, ["rm", "-f", "--", staged], sudo=True, check=False)
                raise
        finally:
            await self._remove(host, home_tmp)
        return digest

    async def _realpath(self, host: HostAccess, path: str) -> str:
        async with self._host_channels(host), self._uploads:
            conn = await self._connection(host)
            async with conn.start_sftp_client() as sftp:
                return str(await sftp.realpath(path))

    async def _remove(self, host: HostAccess, path: str) -> None:
        try:
            async with self._host_channels(host), self._uploads:
                conn = await self._connection(host)
                async with conn.start_sftp_client() as sftp:
                    await sftp.remove(path)
        except (asyncssh.Error, OSError, ConnectError):  # pragma: no cover - best effort
            pass

    async def _upload(
        self, host: HostAccess, source: Path | bytes, staged: str, final: str | None, mode: int
    ) -> str:
        started = time.monotonic()
        digest = hashlib.sha256()
        size = 0
        shown = final or staged
        async with self._host_channels(host), self._uploads:
            conn = await self._connection(host)
            try:
                async with conn.start_sftp_client() as sftp:
                    try:
                        attrs = asyncssh.SFTPAttrs(permissions=mode)
                        async with sftp.open(staged, "wb", attrs) as remote:
                            if isinstance(source, bytes):
                                digest.update(source)
                                size = len(source)
                                await remote.write(source)
                            else:
                                with source.open("rb") as local:
                                    while chunk := local.read(_CHUNK):
                                        digest.update(chunk)
                                        size += len(chunk)
                                        await remote.write(chunk)
                                        await self._pace(size, started)
                        await sftp.chmod(staged, mode)
                        if final is not None:
                            await sftp.posix_rename(staged, final)
                    except BaseException:
                        with contextlib.suppress(asyncssh.Error, OSError):
                            await sftp.remove(staged)
                        raise
            except asyncssh.SFTPError as exc:
                self._record_transfer(host, "put", shown, started, size, "", exc.reason)
                raise TransferFailed(host.label, shown, f"upload failed: {exc.reason}") from None
            except FileNotFoundError as exc:
                raise TransferFailed(host.label, shown, f"local file missing: {exc}") from None
            except (asyncssh.DisconnectError, OSError) as exc:
                self._drop(host, conn)
                raise ConnectError(
                    host.label, f"the connection was lost while uploading {shown}: {exc}"
                ) from None
        hexdigest = digest.hexdigest()
        self._record_transfer(host, "put", shown, started, size, hexdigest, "")
        return hexdigest

    async def _pace(self, sent: int, started: float) -> None:
        """Hold an upload to ``upload_limit`` bytes per second, measured from its start."""
        limit = self.options.upload_limit
        if limit:
            ahead = sent / limit - (time.monotonic() - started)
            if ahead > 0:
                await asyncio.sleep(ahead)

    def _record_transfer(
        self,
        host: HostAccess,
        kind: str,
        path: str,
        started: float,
        size: int | None,
        sha256: str,
        error: str,
    ) -> None:
        if self._recorder is None:
            return
        record = CommandRecord(
            host=host.label,
            kind=kind,
            elapsed=time.monotonic() - started,
            path=path,
            size=size,
            sha256=sha256,
            error=error,
        )
        self._recorder(record.redacted(self.redactor))

    async def read_file(
        self, host: HostAccess, path: str, *, sudo: bool | None = None
    ) -> bytes | None:
        """The content of remote ``path``, or ``None`` when it does not exist.

        Over SFTP for root (or ``sudo=False``); as ``sudo -n -- cat -- PATH`` for sudo users, so
        root-only files (``/etc/kubernetes/admin.conf``) are readable. Either way the run log
        records the file's size and sha256, never its content (CA keys are read this way).
        """
        use_sudo = host.use_sudo if sudo is None else sudo
        if use_sudo:
            argv = ["cat", "--", path]
            command = self._command(host, argv, True, None, None)
            bound = self.options.command_timeout
            raw = await self._exec(
                host, argv, command, input=None, timeout=bound, record_stdout=False
            )
            if raw.exit_status == 0:
                return raw.stdout
            err = _decode(raw.stderr)
            if "No such file or directory" in err:
                return None
            raise self._failure(host, argv, raw.exit_status, "", err)
        started = time.monotonic()
        async with self._host_channels(host), self._uploads:
            conn = await self._connection(host)
            try:
                async with conn.start_sftp_client() as sftp, sftp.open(path, "rb") as remote:
                    content = await remote.read()
                    data = content if isinstance(content, bytes) else content.encode()
            except asyncssh.SFTPNoSuchFile:
                self._record_transfer(host, "get", path, started, None, "", "no such file")
                return None
            except asyncssh.SFTPError as exc:
                self._record_transfer(host, "get", path, started, None, "", exc.reason)
                raise TransferFailed(host.label, path, f"download failed: {exc.reason}") from None
            except (asyncssh.DisconnectError, OSError) as exc:
                self._drop(host, conn)
                raise ConnectError(
                    host.label, f"the connection was lost while reading {path}: {exc}"
                ) from None
        self._record_transfer(
            host, "get", path, started, len(data), hashlib.sha256(data).hexdigest(), ""
        )
        return data

    async def get(
        self,
        host: HostAccess,
        remote_path: str,
        local_path: Path | None = None,
        *,
        sudo: bool | None = None,
        mode: int = 0o600,
    ) -> bytes:
        """The content of remote ``remote_path`` (TransferFailed when missing); also written
        atomically to ``local_path`` with ``mode`` when given."""
        data = await self.read_file(host, remote_path, sudo=sudo)
        if data is None:
            raise TransferFailed(host.label, remote_path, "no such file")
        if local_path is not None:
            tmp = local_path.with_name(f".{local_path.name}.sealer-{secrets.token_hex(4)}")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(data)
                os.replace(tmp, local_path)
            except BaseException:
                tmp.unlink(missing_ok=True)
                raise
        return data


def _terminate(proc: asyncssh.SSHClientProcess[bytes]) -> None:
    """Ask sshd to send SIGTERM to a command that is still running (timeout, cancellation).

    Closing the channel alone leaves a command that neither reads stdin nor writes output
    running. OpenSSH delivers the signal only for sessions of non-root users (it refuses with
    "session signalling requires privilege separation" for root logins); for root the command
    runs on until it exits or next writes to its closed output (SIGPIPE).
    """
    with contextlib.suppress(OSError, asyncssh.Error):
        proc.send_signal("TERM")


def _depth(host: HostAccess) -> int:
    depth = 0
    jump = host.jump
    while jump is not None:
        depth += 1
        jump = jump.jump
    return depth
