"""The relay's program on the hosts: a one-shot file server and its client (stdlib only).

sealer runs this file's text with ``python3 -c SOURCE MODE ARGS...`` over SSH (Python 3.8 or
later on the host, nothing else); it never imports it (the tests do, and run it locally).

``serve ADDR PATH SHA256 TOKEN IDLE LIFETIME RATE``
    Hash PATH first: when its sha256 is not SHA256 print ``corrupt HAVE`` and exit 3 (a bad
    copy is never served on). Else listen on ADDR (the host's cluster address, a free port),
    print ``serving PORT PID`` and leave a detached child serving ``GET /TOKEN`` (anything else:
    404), one request at a time, with ``Range: bytes=N-`` (206) for a resumed copy, at most RATE
    bytes/s (0: no limit). The child exits once it has sent the file to its end, after IDLE
    seconds without a request, or after LIFETIME seconds: nothing is left running when the run
    ends, even when sealer was killed.

``fetch URL DEST SHA256 CONNECT_TIMEOUT RATE``
    Copy URL into ``DIR/.NAME.sealer-relay`` (resuming a partial file there with a Range
    request, also after a cut connection, up to ATTEMPTS times), check the whole file's sha256,
    and only then rename it to DEST (mode 0644). Prints ``ok SIZE RESUMED_FROM``. Exit 2 when
    the server cannot be reached at all (``unreachable REASON``: a firewall, no route), 3 when
    the copy's sha256 is wrong (``corrupt HAVE``: the partial file is removed), 4 on any other
    failure (``failed REASON``).

``stop PID TOKEN``
    End the server PID if it is still the one serving TOKEN (its command line holds the token).
"""

from __future__ import annotations

import hashlib
import os
import signal
import socket
import sys
import time
from collections.abc import Callable

CHUNK = 1 << 16
ATTEMPTS = 5
READ_TIMEOUT = 30.0

EXIT_UNREACHABLE = 2
EXIT_CORRUPT = 3
EXIT_FAILED = 4


def sha256_of(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            chunk = f.read(1 << 20)
            if not chunk:
                return digest.hexdigest()
            digest.update(chunk)


class Pacer:
    """At most ``rate`` bytes per second (0: unlimited), measured from the start."""

    def __init__(self, rate: int) -> None:
        self.rate = rate
        self.started = time.monotonic()
        self.sent = 0

    def account(self, size: int) -> None:
        self.sent += size
        if self.rate > 0:
            ahead = self.sent / self.rate - (time.monotonic() - self.started)
            if ahead > 0:
                time.sleep(ahead)


# -- serve ------------------------------------------------------------------------------------


def read_request(conn: socket.socket) -> tuple[list[str], dict[str, str]] | None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            return None
        data += chunk
        if len(data) > 16384:
            return None
    head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    lines = head.split("\r\n")
    parts = lines[0].split(" ")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return parts, headers


def range_start(value: str, size: int) -> int | None:
    """The N of ``bytes=N-`` (None when absent or not of that form)."""
    if not value.startswith("bytes=") or not value.endswith("-"):
        return None
    number = value[len("bytes=") : -1]
    if not number.isdigit() or int(number) > size:
        return None
    return int(number)


def answer(conn: socket.socket, path: str, token: str, rate: int) -> bool:
    """Serve one request; True when the file was sent to its end."""
    request = read_request(conn)
    if request is None:
        return False
    parts, headers = request
    if len(parts) < 2 or parts[0] != "GET" or parts[1] != "/" + token:
        conn.sendall(b"HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n")
        return False
    size = os.path.getsize(path)
    start = range_start(headers.get("range", ""), size)
    if start is None:
        start = 0
        status = "200 OK"
        extra = ""
    else:
        status = "206 Partial Content"
        extra = f"Content-Range: bytes {start}-{size - 1}/{size}\r\n"
    head = (
        f"HTTP/1.0 {status}\r\nContent-Length: {size - start}\r\n{extra}Connection: close\r\n\r\n"
    )
    conn.sendall(head.encode("latin-1"))
    pacer = Pacer(rate)
    with open(path, "rb") as f:
        f.seek(start)
        while True:
            chunk = f.read(CHUNK)
            if not chunk:
                return True
            conn.sendall(chunk)
            pacer.account(len(chunk))


def serve_forever(
    listener: socket.socket, path: str, token: str, idle: float, lifetime: float, rate: int
) -> None:
    deadline = time.monotonic() + lifetime
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return
        listener.settimeout(min(idle, left))
        try:
            conn, _ = listener.accept()
        except TimeoutError:
            return
        try:
            conn.settimeout(READ_TIMEOUT)
            if answer(conn, path, token, rate):
                return
        except OSError:
            pass  # the client went away: it resumes with a Range request
        finally:
            conn.close()


def detach() -> None:
    """Leave the SSH session: a new session, standard streams on /dev/null."""
    os.setsid()
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.close(null)


def serve(args: list[str]) -> int:
    addr, path, want, token, idle, lifetime, rate = args
    have = sha256_of(path)
    if have != want:
        print("corrupt " + have)
        return EXIT_CORRUPT
    family = socket.AF_INET6 if ":" in addr else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.bind((addr, 0))
    listener.listen(4)
    port = listener.getsockname()[1]
    sys.stdout.flush()
    pid = os.fork()
    if pid:
        print(f"serving {port} {pid}")
        sys.stdout.flush()
        os._exit(0)
    detach()
    try:
        serve_forever(listener, path, token, float(idle), float(lifetime), int(rate))
    finally:
        os._exit(0)
    return 0  # not reached


# -- fetch ------------------------------------------------------------------------------------


def split_url(url: str) -> tuple[str, int, str]:
    rest = url[len("http://") :]
    hostport, _, path = rest.partition("/")
    if hostport.startswith("["):
        host, _, port = hostport[1:].partition("]:")
    else:
        host, _, port = hostport.rpartition(":")
    return host, int(port), "/" + path


class Unreachable(Exception):
    pass


def fetch_once(url: str, part: str, connect_timeout: float, rate: int) -> bool:
    """Append to ``part`` from where it ends; True when the server sent everything."""
    host, port, path = split_url(url)
    offset = os.path.getsize(part) if os.path.exists(part) else 0
    try:
        conn = socket.create_connection((host, port), timeout=connect_timeout)
    except OSError as exc:
        raise Unreachable(f"{host}:{port}: {exc}") from None
    with conn:
        conn.settimeout(READ_TIMEOUT)
        request = f"GET {path} HTTP/1.0\r\nHost: {host}\r\n"
        if offset:
            request += f"Range: bytes={offset}-\r\n"
        conn.sendall((request + "\r\n").encode("latin-1"))
        reader = conn.makefile("rb")
        status = reader.readline().decode("latin-1").split(" ")
        code = status[1] if len(status) > 1 else ""
        length = None
        while True:
            line = reader.readline().decode("latin-1").strip()
            if not line:
                break
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-length":
                length = int(value.strip())
        if code == "200":
            mode = "wb"
        elif code == "206" and offset:
            mode = "ab"
        else:
            raise RuntimeError("the server answered " + " ".join(status).strip())
        received = 0
        pacer = Pacer(rate)
        with open(part, mode) as out:
            while True:
                chunk = reader.read(CHUNK)
                if not chunk:
                    break
                out.write(chunk)
                received += len(chunk)
                pacer.account(len(chunk))
        return length is not None and received == length


def fetch(args: list[str]) -> int:
    url, dest, want, connect_timeout, rate = args
    directory, name = os.path.split(dest)
    part = os.path.join(directory, "." + name + ".sealer-relay")
    resumed_from = os.path.getsize(part) if os.path.exists(part) else 0
    complete = False
    for attempt in range(ATTEMPTS):
        try:
            complete = fetch_once(url, part, float(connect_timeout), int(rate))
        except Unreachable as exc:
            if attempt == 0:
                print(f"unreachable {exc}")
                return EXIT_UNREACHABLE
        except (OSError, RuntimeError, ValueError) as exc:
            if attempt == ATTEMPTS - 1:
                print(f"failed {exc}")
                return EXIT_FAILED
        if complete:
            break
    if not complete:
        print(f"failed the copy stayed incomplete after {ATTEMPTS} attempts")
        return EXIT_FAILED
    have = sha256_of(part)
    if have != want:
        os.remove(part)
        print("corrupt " + have)
        return EXIT_CORRUPT
    os.chmod(part, 0o644)
    os.replace(part, dest)
    print(f"ok {os.path.getsize(dest)} {resumed_from}")
    return 0


# -- stop -------------------------------------------------------------------------------------


def stop(args: list[str]) -> int:
    pid, token = int(args[0]), args[1]
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            cmdline = f.read().split(b"\0")
    except OSError:
        print("gone")
        return 0
    if token.encode() not in cmdline:
        print("gone")
        return 0
    os.kill(pid, signal.SIGTERM)
    print("stopped")
    return 0


MODES: dict[str, tuple[Callable[[list[str]], int], int]] = {
    "serve": (serve, 7),
    "fetch": (fetch, 5),
    "stop": (stop, 2),
}


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in MODES or len(argv) - 1 != MODES[argv[0]][1]:
        print("failed usage: serve|fetch|stop ARGS (sealer's relay)")
        return EXIT_FAILED
    run, _ = MODES[argv[0]]
    return run(argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
