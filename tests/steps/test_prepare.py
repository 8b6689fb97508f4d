"""prepare against the fake: only what preflight found wrong is changed; files over SFTP;
clean gives fstab's swap lines back and removes sealer's two files."""

from __future__ import annotations

from sealer.engine.context import RunContext
from sealer.layout import FSTAB, FSTAB_SWAP_MARKER, MODULES_LOAD_FILE, SYSCTL_FILE
from sealer.plan.payloads import PreparePayload
from sealer.steps.prepare import (
    Prepare,
    comment_out_swap,
    merge_lines,
    restore_fstab,
    restore_swap,
    sysctl_text,
)
from tests.steps.builders import N, cluster, fresh, make_target
from tests.steps.fake_remote import FakeRemote, Upload

CTX = RunContext()
HOST = N[0]
FSTAB_TEXT = (
    "# /etc/fstab\n"
    "UUID=1 / ext4 errors=remount-ro 0 1\n"
    "/swapfile none swap sw 0 0\n"
    "# /dev/sdb1 none swap sw 0 0\n"
    "/dev/vdb2\tnone\tswap\tdefaults\t0\t0\n"
)


def test_comment_out_swap_marks_only_active_swap_lines_and_restore_gives_them_back() -> None:
    commented = comment_out_swap(FSTAB_TEXT)
    assert commented.splitlines() == [
        "# /etc/fstab",
        "UUID=1 / ext4 errors=remount-ro 0 1",
        f"{FSTAB_SWAP_MARKER}/swapfile none swap sw 0 0",
        "# /dev/sdb1 none swap sw 0 0",
        f"{FSTAB_SWAP_MARKER}/dev/vdb2\tnone\tswap\tdefaults\t0\t0",
    ]
    assert comment_out_swap(commented) == commented
    assert restore_swap(commented) == FSTAB_TEXT


def test_merge_lines_and_sysctl_text_keep_what_the_file_had() -> None:
    assert merge_lines("", ("br_netfilter",), "# h") == "# h\nbr_netfilter\n"
    assert merge_lines("# h\noverlay\n", ("overlay", "br_netfilter"), "# x") == (
        "# h\noverlay\nbr_netfilter\n"
    )
    text = sysctl_text("vm.x = 3\nnet.ipv4.ip_forward = 0\n", ("net.ipv4.ip_forward",))
    assert text == "vm.x = 3\nnet.ipv4.ip_forward = 1\n"


async def test_prepare_turns_swap_off_loads_modules_and_sets_sysctls(fake: FakeRemote) -> None:
    c = cluster()
    target = make_target(fake, c, fresh(c))
    fake.write(HOST, FSTAB, FSTAB_TEXT)
    for argv in (
        ["swapoff", "-a"],
        ["modprobe", "--", "br_netfilter"],
        ["mkdir", "-p", "/etc/modules-load.d"],
        ["mkdir", "-p", "/etc/sysctl.d"],
        ["sysctl", "-w", "net.bridge.bridge-nf-call-iptables=1"],
    ):
        fake.on(argv, host=HOST)
    payload = PreparePayload(True, ("br_netfilter",), ("net.bridge.bridge-nf-call-iptables",))
    outcome = await Prepare(target, HOST, payload).run(CTX)
    assert outcome.changed
    assert fake.commands(HOST) == [
        ("swapoff", "-a"),
        ("modprobe", "--", "br_netfilter"),
        ("mkdir", "-p", "/etc/modules-load.d"),
        ("mkdir", "-p", "/etc/sysctl.d"),
        ("sysctl", "-w", "net.bridge.bridge-nf-call-iptables=1"),
    ]
    uploads = {u.path: u.content.decode() for u in fake.uploads}
    assert uploads[FSTAB] == comment_out_swap(FSTAB_TEXT)
    assert uploads[MODULES_LOAD_FILE].splitlines()[1:] == ["br_netfilter"]
    assert uploads[SYSCTL_FILE].splitlines()[-1] == "net.bridge.bridge-nf-call-iptables = 1"
    # the sysctl file is written before the value is set (a failure leaves the boot setting)
    sysctl_upload = next(u for u in fake.uploads if u.path == SYSCTL_FILE)
    set_now = ["sysctl", "-w", "net.bridge.bridge-nf-call-iptables=1"]
    assert fake.log.index(sysctl_upload) < fake.index(set_now, HOST)


async def test_prepare_of_only_a_module_touches_neither_swap_nor_sysctls(
    fake: FakeRemote,
) -> None:
    c = cluster()
    target = make_target(fake, c, fresh(c))
    fake.on(["modprobe", "--", "overlay"], host=HOST)
    fake.on(["mkdir", "-p", "/etc/modules-load.d"], host=HOST)
    await Prepare(target, HOST, PreparePayload(modules=("overlay",))).run(CTX)
    assert [c.argv[0] for c in fake.changes(HOST) if not isinstance(c, Upload)] == [
        "modprobe",
        "mkdir",
    ]
    assert [u.path for u in fake.uploads] == [MODULES_LOAD_FILE]


async def test_restore_fstab_writes_only_when_sealer_commented_a_line(fake: FakeRemote) -> None:
    c = cluster()
    target = make_target(fake, c, fresh(c))
    fake.write(HOST, FSTAB, FSTAB_TEXT)
    assert not await restore_fstab(target, HOST)
    assert fake.uploads == []
    fake.write(HOST, FSTAB, comment_out_swap(FSTAB_TEXT))
    assert await restore_fstab(target, HOST)
    assert fake.file(HOST, FSTAB) == FSTAB_TEXT.encode()
