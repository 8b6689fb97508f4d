"""The known_hosts files are parsed once per run, and again only when one of them changed (a
pinned key is seen by the next connect). No sshd needed."""

from __future__ import annotations

from pathlib import Path

import asyncssh

from sealer.connect.hostkeys import KnownHosts, known_hosts_pattern


def key_line(address: str) -> tuple[str, asyncssh.SSHKey]:
    key = asyncssh.generate_private_key("ssh-ed25519")
    public = key.export_public_key("openssh").decode().split()
    return f"{known_hosts_pattern(address, 22)} {public[0]} {public[1]}\n", key


def trusted(db: asyncssh.SSHKnownHosts, address: str) -> int:
    """How many different keys are trusted for the address."""
    host_keys = db.match(address, address, 22)[0]
    return len({key.public_data for key in host_keys})


def test_unchanged_files_are_parsed_once(tmp_path: Path) -> None:
    known = tmp_path / "known_hosts"
    known.write_text("".join(key_line(f"10.4.0.{i}")[0] for i in range(2, 202)))
    hosts = KnownHosts((known,), tmp_path / "pinned", accept_new=False)

    first = hosts.load()
    assert hosts.load() is first  # 200 connects, one parse
    assert trusted(first, "10.4.0.77") == 1


def test_a_pinned_key_is_seen_by_the_next_load(tmp_path: Path) -> None:
    known = tmp_path / "known_hosts"
    known.write_text(key_line("10.4.0.2")[0])
    hosts = KnownHosts((known,), tmp_path / "pinned", accept_new=True)
    before = hosts.load()
    assert trusted(before, "10.4.0.3") == 0

    hosts.pin("10.4.0.3", 22, key_line("10.4.0.3")[1])

    after = hosts.load()
    assert after is not before
    assert trusted(after, "10.4.0.3") == 1


def test_an_edited_file_is_parsed_again(tmp_path: Path) -> None:
    known = tmp_path / "known_hosts"
    known.write_text(key_line("10.4.0.2")[0])
    hosts = KnownHosts((known,), tmp_path / "pinned", accept_new=False)
    assert trusted(hosts.load(), "10.4.0.2") == 1
    known.write_text(key_line("10.4.0.9")[0] + key_line("10.4.0.10")[0])
    db = hosts.load()
    assert trusted(db, "10.4.0.2") == 0
    assert trusted(db, "10.4.0.10") == 1
