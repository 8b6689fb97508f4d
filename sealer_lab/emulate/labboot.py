"""``lab-boot``: what systemd does at boot for the lab hosts.

Loads every unit (daemon-reload), then starts the enabled units and timers (symlinks in
/etc/systemd/system/*.wants/) in After=/Before= order. Run by the lab host's init after sshd.
"""

from __future__ import annotations

import shutil
import sys

from sealer_lab.emulate import sdstate, systemctl, units

__all__ = ["boot_order", "main"]


def boot_order(unit_list: list[units.Unit]) -> list[str]:
    """Topological order by After=/Before= among the given units (ties by name)."""
    names = {u.name for u in unit_list}
    deps: dict[str, set[str]] = {u.name: set() for u in unit_list}
    for u in unit_list:
        deps[u.name] |= {a for a in u.after if a in names}
        for b in u.before:
            if b in names:
                deps[b].add(u.name)
    order: list[str] = []
    ready = sorted(n for n, d in deps.items() if not d)
    while ready:
        n = ready.pop(0)
        order.append(n)
        for m, d in deps.items():
            if n in d:
                d.discard(n)
                if not d and m not in order and m not in ready:
                    ready.append(m)
                    ready.sort()
    order += sorted(n for n in deps if n not in order)  # cycles: systemd breaks them too
    return order


def main(argv: list[str]) -> int:
    del argv
    run = sdstate.run_dir()
    if run.is_dir():  # a reboot: nothing survives in /run
        shutil.rmtree(run)
    run.mkdir(parents=True, exist_ok=True)
    (run / "boot").touch()  # the boot time (OnBootSec= counts from it)
    systemctl.daemon_reload()
    enabled = []
    for name in systemctl.enabled_units():
        try:
            enabled.append(units.load_unit(name, sdstate.unit_dir()))
        except units.UnitNotFound:
            continue
    code = 0
    for name in boot_order(enabled):
        code = systemctl.start(name) or code
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
