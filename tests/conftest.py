"""Fixtures every test area may use: a lab of real SSH hosts (see docs/lab.md).

``lab`` is one session-wide lab (3 masters, 2 nodes, key and password login, a sudo user
``alice``) with a name unique to this test session, taken down at the end even when tests fail.
``lab_factory`` makes further labs for one test and takes them down after it.
Both skip when not root or when a needed program is missing; tests using them are ``lab``-marked.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

import sealer_lab
from sealer.cli import plugins

# Property tests: no per-example deadline and no "too slow" health check. Both measure wall-clock
# time, which on a loaded machine (CI, several suites at once) says nothing about the code.
# The suite's profile is also derandomized: every run tries the same examples, so a property
# test cannot fail one run in a hundred (a random surrogate in a generated argv once did).
# SEALER_HYPOTHESIS=explore searches with fresh random examples, to look for new failures.
settings.register_profile(
    "sealer",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
    database=None,
)
settings.register_profile(
    "explore", deadline=None, suppress_health_check=[HealthCheck.too_slow], max_examples=500
)
settings.load_profile(os.environ.get("SEALER_HYPOTHESIS", "sealer"))

LAB_PLUGIN = "sealer_lab.cli:register"
LAB_PROGRAMS = ("ip", "tc", "nft", "nsenter", "unshare", "setsid", "tini", "ssh-keygen", "openssl")
SUDO_USER = "alice"


def _lab_unavailable() -> str | None:
    if os.geteuid() != 0:
        return "the lab needs root"
    missing = [p for p in (*LAB_PROGRAMS, "/usr/sbin/sshd") if shutil.which(p) is None]
    return f"missing programs: {', '.join(missing)}" if missing else None


_TEST_LAB = re.compile(r"t[0-9a-f]{6}(-[a-z0-9-]+)?")
OWNER_FILE = "test-owner"


def _process_identity(pid: int) -> str | None:
    """``PID STARTTIME`` of a live process (start time tells a reused PID apart)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return None
    return f"{pid} {stat.rsplit(')', 1)[1].split()[19]}"


def _claim(name: str) -> None:
    """Mark lab ``name`` as this pytest process's, before it exists, for the stale-lab reaper."""
    directory = sealer_lab.lab_dir(name)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / OWNER_FILE).write_text(f"{_process_identity(os.getpid())}\n")


def _reap_stale_test_labs() -> None:
    """Take down test labs left by a test session that was killed (its process is gone)."""
    root = sealer_lab.lab_root()
    if not root.is_dir():
        return
    for entry in sorted(root.iterdir()):
        owner = entry / OWNER_FILE
        if not _TEST_LAB.fullmatch(entry.name) or not owner.exists():
            continue
        recorded = owner.read_text().strip()
        pid = recorded.split()[0]
        if not pid.isdigit() or _process_identity(int(pid)) != recorded:
            with contextlib.suppress(Exception):
                sealer_lab.down(entry.name)


@pytest.fixture(scope="session", autouse=True)
def lab_cli_plugin() -> Iterator[None]:
    """``sealer lab`` for every ``sealer`` the tests run, in this process or a child: the tests
    run the source tree, where the ``sealer.commands`` entry point of an installed distribution
    may be missing or older (sealer/cli/plugins.py). Loaded once when it is there too."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(plugins.ENV, LAB_PLUGIN)
        yield


@pytest.fixture(scope="session")
def lab_session_id() -> str:
    """Six hex digits unique to this test session; prefix of every lab name it makes."""
    if _lab_unavailable() is None:
        _reap_stale_test_labs()
    return secrets.token_hex(3)


@pytest.fixture(scope="session")
def lab(lab_session_id: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[sealer_lab.Lab]:
    reason = _lab_unavailable()
    if reason:
        pytest.skip(reason)
    name = f"t{lab_session_id}"
    clusterfile = tmp_path_factory.mktemp("lab") / f"{name}.yaml"
    try:
        _claim(name)
        yield sealer_lab.up(
            name,
            masters=3,
            nodes=2,
            password_login=True,
            sudo_user=SUDO_USER,
            clusterfile=clusterfile,
        )
    finally:
        sealer_lab.down(name)


LabFactory = Callable[..., sealer_lab.Lab]


@pytest.fixture
def lab_factory(lab_session_id: str) -> Iterator[LabFactory]:
    """``lab_factory(suffix, masters=1, nodes=0, **up_options)``: a Lab removed after the test."""
    reason = _lab_unavailable()
    if reason:
        pytest.skip(reason)
    made: list[str] = []

    def make(suffix: str, masters: int = 1, nodes: int = 0, **options: Any) -> sealer_lab.Lab:
        name = f"t{lab_session_id}-{suffix}"
        made.append(name)
        _claim(name)
        return sealer_lab.up(name, masters, nodes, **options)

    try:
        yield make
    finally:
        errors = []
        for name in made:
            try:
                sealer_lab.down(name)
            except Exception as exc:  # keep removing the others
                errors.append(exc)
        if errors:
            raise errors[0]


@pytest.fixture
def lab_clusterfile(lab: sealer_lab.Lab) -> Path:
    assert lab.clusterfile is not None
    return lab.clusterfile


@contextlib.contextmanager
def kubernetes_lab(
    session_id: str, suffix: str, workdir: Path, masters: int, nodes: int, **options: Any
) -> Iterator[sealer_lab.Lab]:
    """A lab with the emulated Kubernetes package (``sealer lab up``) for one test module,
    its Clusterfile at ``workdir/lab.yaml``; taken down afterwards even when tests fail."""
    from sealer_lab.kube_lab import up_kubernetes_lab

    reason = _lab_unavailable()
    if reason:
        pytest.skip(reason)
    name = f"t{session_id}-{suffix}"
    try:
        _claim(name)
        yield up_kubernetes_lab(name, masters, nodes, clusterfile=workdir / "lab.yaml", **options)
    finally:
        sealer_lab.down(name)
