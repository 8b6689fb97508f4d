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

import shlex
from collections.abc import Mapping, Sequence

__all__ = ["SUDO", "builtin_argv", "render", "sudo_argv"]

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
