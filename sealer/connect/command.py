"""Turning argv lists into the one shell string sshd runs: the ONLY place sealer quotes.

sshd hands every command to the login user's shell (``$SHELL -c STRING``), so a remote command is
always a string in the end. Everything else in sealer builds argv lists; this module joins them with
:func:`shlex.join` and adds the few wrappers sealer needs:

* ``sudo -n -- ARGV`` for non-root users (``-n``: never prompt; a sudo that needs a password fails
  at once instead of hanging),
* ``cd DIR && ARGV`` for a working directory (with sudo: ``sudo -n -- sh -c 'cd DIR && ARGV'`` so
  the ``cd`` also runs as root),
* ``env NAME=VALUE ARGV`` for environment variables (sshd's ``AcceptEnv`` is usually closed).

Shell builtins (``command -v``) are not programs, so they run as ``sh -c 'command -v NAME'`` built
by :func:`builtin_argv`; that script is itself produced with :func:`shlex.join`.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping, Sequence

__all__ = ["SUDO", "batch_argv", "builtin_argv", "render", "split_batch", "sudo_argv"]

SUDO: tuple[str, ...] = ("sudo", "-n", "--")


def _check(argv: Sequence[str]) -> list[str]:
    if isinstance(argv, str):
        raise TypeError("argv must be a sequence of strings, not one string")
    items = list(argv)
    if not items:
        raise ValueError("argv must not be empty")
    for item in items:
        if not isinstance(item, str):
            raise TypeError(f"argv items must be strings, got {type(item).__name__}")
        if "\x00" in item:
            raise ValueError("argv items must not contain NUL characters")
    return items


def sudo_argv(argv: Sequence[str]) -> list[str]:
    """``["sudo", "-n", "--", *argv]``."""
    return [*SUDO, *_check(argv)]


def builtin_argv(name: str, *args: str) -> list[str]:
    """argv running a shell builtin: ``builtin_argv("command", "-v", "python3")`` is
    ``["sh", "-c", "command -v python3"]`` (arguments quoted here)."""
    return ["sh", "-c", shlex.join(_check([name, *args]))]


def render(
    argv: Sequence[str],
    *,
    sudo: bool = False,
    cwd: str | None = None,
    env: Mapping[str, str] | None = None,
) -> str:
    """The shell string for ``argv`` run in ``cwd`` with ``env``, through ``sudo -n`` if asked.

    >>> render(["echo", "$(id)", "a b"])
    "echo '$(id)' 'a b'"
    >>> render(["ls"], cwd="/etc/kubernetes", sudo=True)
    "sudo -n -- sh -c 'cd /etc/kubernetes && ls'"
    """
    items = _check(argv)
    if env:
        for name in env:
            if (
                not name
                or not (name[0].isalpha() or name[0] == "_")
                or not all(c.isalnum() or c == "_" for c in name)
            ):
                raise ValueError(f"invalid environment variable name {name!r}")
        items = ["env", *(f"{k}={v}" for k, v in env.items()), *items]
    if cwd is not None:
        if not cwd:
            raise ValueError("cwd must not be empty")
        script = f"cd {shlex.quote(cwd)} && {shlex.join(items)}"
        if sudo:
            return shlex.join([*SUDO, "sh", "-c", script])
        return script
    if sudo:
        items = [*SUDO, *items]
    return shlex.join(items)


def batch_argv(argvs: Sequence[Sequence[str]], marker: str) -> list[str]:
    """One ``sh -c`` argv running every argv in turn, each framed by ``marker`` lines so that
    :func:`split_batch` can give each its own stdout, stderr and exit status.

    For argv number ``i``: ``\\nMARKER i\\n`` on stdout and stderr before it, its output, then
    ``\\nMARKER rc i STATUS\\n`` on stdout. Each argv reads /dev/null, never the batch's stdin.
    ``marker`` must be unguessable (random), so no command's output can forge a frame.
    """
    if not marker.isalnum():
        raise ValueError("marker must be alphanumeric")
    lines = []
    for index, argv in enumerate(argvs):
        lines.append(f"printf '\\n%s %d\\n' {marker} {index}")
        lines.append(f"printf '\\n%s %d\\n' {marker} {index} >&2")
        lines.append(f"{shlex.join(_check(argv))} </dev/null")
        lines.append(f"printf '\\n%s rc %d %d\\n' {marker} {index} \"$?\"")
    return ["sh", "-c", "\n".join(lines)]


def split_batch(
    stdout: str, stderr: str, marker: str, count: int
) -> list[tuple[int, str, str]] | None:
    """``(exit_status, stdout, stderr)`` of each argv of a :func:`batch_argv` run, or None when
    the output is not complete (the batch was cut short)."""
    out_frames = re.split(rf"\n{marker} (?:rc )?(\d+)(?: (\d+))?\n", stdout)
    # [prefix, i, None, out_i, i, status_i, between, ...]: start and end frames alternate.
    results: list[tuple[int, str, str]] = []
    position = 1
    for index in range(count):
        if position + 5 > len(out_frames):
            return None
        start, _, text, end, status = out_frames[position : position + 5]
        if start != str(index) or end != str(index) or status is None:
            return None
        results.append((int(status), text, ""))
        position += 6
    err_frames = re.split(rf"\n{marker} (\d+)\n", stderr)
    errors = {int(err_frames[i]): err_frames[i + 1] for i in range(1, len(err_frames) - 1, 2)}
    return [(s, o, errors.get(i, "")) for i, (s, o, _) in enumerate(results)]
