"""What the init and join tests script on the fake and read back, besides kubeadm itself."""

from __future__ import annotations

from sealer.layout import ADMIN_CONF, INIT_MARKER, KUBEADM_RUN_CONFIG_PATH, USER_KUBECONFIG
from tests.steps.builders import runtime
from tests.steps.fake_remote import FakeRemote
from tests.steps.fake_remote import changed_argv as every_changed_argv

RESET = ("kubeadm", "reset", "-f")
INSTALL_KUBECONFIG = ("install", "-m", "0600", ADMIN_CONF, USER_KUBECONFIG)
RM_RUN_CONFIG = ("rm", "-f", KUBEADM_RUN_CONFIG_PATH)
JOIN = ("kubeadm", "join", "--config", KUBEADM_RUN_CONFIG_PATH)


def changed_argv(fake: FakeRemote, host: str | None = None) -> list[tuple[str, ...]]:
    """The commands that are not reads, without the `mkdir -p` of parent directories."""
    return [argv for argv in every_changed_argv(fake, host) if argv[:2] != ("mkdir", "-p")]


def script_host(fake: FakeRemote, host: str) -> None:
    """What every kubeadm run does on its host besides kubeadm itself."""
    fake.on_prefix(["mkdir", "-p"], host=host)
    fake.on(RM_RUN_CONFIG, host=host)
    fake.on(RESET, host=host)
    fake.on(["rm", "-f", INIT_MARKER], host=host)
    runtime(fake, host)
