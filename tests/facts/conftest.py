"""A real sshd on 127.0.0.1 for the facts read over SSH (tests/sshd_fixtures.py)."""

from tests.sshd_fixtures import client_key, options, root, sshd

__all__ = ["client_key", "options", "root", "sshd"]
