"""``lsmod``, ``modprobe``, ``sysctl``, ``swapon``, ``swapoff``: a lab host's own kernel state.

Lab hosts share the machine's kernel: its modules, swap and most of /proc/sys are not theirs to
change. These programs (in the lab-wide /usr/local/sbin, first on the PATH) stand in for the
real ones with the same command lines, output and exit statuses, on a per-host state file, so
that sealer's preflight reads and its ``prepare`` step changes a host's kernel exactly as on a
real machine, and cannot tell the difference.

* ``/etc/sealer-lab/kernel.json`` (the host's private /etc, optional): how the host's kernel
  comes up, as a test sets it: ``{"unloaded": ["br_netfilter"], "sysctl":
  {"net.ipv4.ip_forward": "0"}, "swap": ["/swapfile"]}``. Without it the host boots as a
  prepared machine: every module of :data:`MODULES` loaded, the two sysctls 1, no swap area.
* ``/run/sealer-lab/kernel.json``: the running state (lost at reboot, as /proc is). Made at
  first use after boot, as systemd would: the modules of /etc/modules-load.d/*.conf loaded,
  /etc/sysctl.d/*.conf applied, ``swapon -a`` of the swap areas /etc/fstab lists (uncommented)
  among those the host has.

Only :data:`MODELLED_SYSCTLS` are kept in the state; every other key is read from the kernel's
own /proc/sys and only ``net.*`` keys (the network namespace's own) can be written: the rest
are the machine's, shared by every host, and refused as in a container.
``net.ipv4.ip_forward`` is written through to the namespace's real /proc/sys too.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from pathlib import Path
from typing import Any

__all__ = ["MODELLED_SYSCTLS", "MODULES", "main"]

#: The modules the lab's kernel can load (name -> size lsmod shows).
MODULES: dict[str, int] = {
    "overlay": 151552,
    "bridge": 311296,
    "br_netfilter": 32768,
    "nf_tables": 303104,
    "nf_conntrack": 172032,
}
DEPENDS = {"br_netfilter": ("bridge",)}
MODELLED_SYSCTLS = ("net.ipv4.ip_forward", "net.bridge.bridge-nf-call-iptables")
_NEEDS_MODULE = {"net.bridge.bridge-nf-call-iptables": "br_netfilter"}
_SWAP_SIZE = 2 * 1024**3


def _boot_path() -> Path:
    return Path(os.environ.get("SEALER_LAB_KERNEL_BOOT", "/etc/sealer-lab/kernel.json"))


def _state_path() -> Path:
    return Path(os.environ.get("SEALER_LAB_KERNEL_STATE", "/run/sealer-lab/kernel.json"))


def _etc() -> Path:
    return Path(os.environ.get("SEALER_LAB_ETC", "/etc"))


def _conf_lines(directory: Path) -> list[str]:
    lines: list[str] = []
    try:
        files = sorted(p for p in directory.iterdir() if p.name.endswith(".conf"))
    except OSError:
        return lines
    for path in files:
        try:
            text = path.read_text()
        except OSError:  # a dangling link (Debian's modules.conf -> ../modules)
            continue
        for line in text.splitlines():
            line = line.strip()
            if line and not line.startswith(("#", ";")):
                lines.append(line)
    return lines


def _fstab_swaps() -> list[str]:
    try:
        text = (_etc() / "fstab").read_text()
    except OSError:
        return []
    found = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) >= 3 and not fields[0].startswith("#") and fields[2] == "swap":
            found.append(fields[0])
    return found


def _boot() -> dict[str, Any]:
    """The state at boot: the host's kernel settings, then what systemd applies."""
    try:
        config = json.loads(_boot_path().read_text())
    except FileNotFoundError:
        config = {}
    unloaded = set(config.get("unloaded", []))
    state: dict[str, Any] = {
        "modules": sorted(m for m in MODULES if m not in unloaded),
        "sysctl": {key: "1" for key in MODELLED_SYSCTLS},
        "swap_areas": list(config.get("swap", [])),
        "swaps": [],
    }
    state["sysctl"].update(config.get("sysctl", {}))
    for name in _conf_lines(_etc() / "modules-load.d"):  # systemd-modules-load
        _load(state, name)
    for line in _conf_lines(_etc() / "sysctl.d"):  # systemd-sysctl, the modelled keys
        key, sep, value = line.partition("=")
        if sep and key.strip() in MODELLED_SYSCTLS:
            _set(state, key.strip(), value.strip())
    fstab = _fstab_swaps()  # swapon -a
    state["swaps"] = [a for a in state["swap_areas"] if a in fstab]
    return state


def _read() -> dict[str, Any]:
    path = _state_path()
    try:
        data: dict[str, Any] = json.loads(path.read_text())
        return data
    except FileNotFoundError:
        state = _boot()
        _write(state)
        return state


def _save(state: dict[str, Any], before: str) -> None:
    """Write ``state`` when it differs from ``before`` (its JSON when read): reads change
    nothing, as reading /proc does not."""
    if json.dumps(state, sort_keys=True) != before:
        _write(state)


def _write(state: dict[str, Any]) -> None:
    path = _state_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    tmp.write_text(json.dumps(state, indent=1, sort_keys=True))
    os.replace(tmp, path)


def _load(state: dict[str, Any], name: str) -> bool:
    name = name.replace("-", "_")
    if name not in MODULES:
        return False
    for dep in (*DEPENDS.get(name, ()), name):
        if dep not in state["modules"]:
            state["modules"].append(dep)
    state["modules"].sort()
    return True


def _proc_path(key: str) -> Path:
    root = Path(os.environ.get("SEALER_LAB_PROC_SYS", "/proc/sys"))
    return root / key.replace(".", "/")


def _set(state: dict[str, Any], key: str, value: str) -> str | None:
    """Set ``key``; the error text of sysctl when it cannot be set."""
    key = key.replace("/", ".")
    if key in MODELLED_SYSCTLS:
        needs = _NEEDS_MODULE.get(key)
        if needs is not None and needs not in state["modules"]:
            return f"sysctl: cannot stat {_proc_path(key)}: No such file or directory"
        state["sysctl"][key] = value
        if key == "net.ipv4.ip_forward":
            with contextlib.suppress(OSError):  # the state is what the host sees
                _proc_path(key).write_text(value + "\n")
        return None
    if not key.startswith("net."):  # the machine's kernel, shared by every host: read-only
        return f'sysctl: permission denied on key "{key}"'
    try:
        _proc_path(key).write_text(value + "\n")
    except FileNotFoundError:
        return f"sysctl: cannot stat {_proc_path(key)}: No such file or directory"
    except OSError as exc:
        return f'sysctl: permission denied on key "{key}": {exc.strerror}'
    return None


def _get(state: dict[str, Any], key: str) -> str | None:
    key = key.replace("/", ".")
    if key in MODELLED_SYSCTLS:
        needs = _NEEDS_MODULE.get(key)
        if needs is not None and needs not in state["modules"]:
            return None
        return str(state["sysctl"].get(key, "0"))
    try:
        return _proc_path(key).read_text().strip()
    except OSError:
        return None


# -- the programs -------------------------------------------------------------------------------


def lsmod(argv: list[str]) -> int:
    if argv:
        print("Usage: lsmod", file=sys.stderr)
        return 1
    state = _read()
    print("Module                  Size  Used by")
    for name in sorted(state["modules"]):
        users = [m for m, deps in DEPENDS.items() if name in deps and m in state["modules"]]
        used = f"{len(users)} {','.join(users)}" if users else "0"
        print(f"{name:<19} {MODULES[name]:>10}  {used}")
    return 0


def modprobe(argv: list[str]) -> int:
    quiet = many = remove = False
    names: list[str] = []
    options_done = False
    for arg in argv:
        if not options_done and arg == "--":
            options_done = True
        elif not options_done and arg in ("-q", "--quiet"):
            quiet = True
        elif not options_done and arg in ("-a", "--all"):
            many = True
        elif not options_done and arg in ("-r", "--remove"):
            remove = True
        elif not options_done and arg.startswith("-"):
            print(f"modprobe: unrecognized option '{arg}'", file=sys.stderr)
            return 1
        else:
            names.append(arg)
    if not names:
        print("modprobe: ERROR: missing module name.", file=sys.stderr)
        return 1
    if not many and not remove:
        names = names[:1]  # the rest are module parameters
    state = _read()
    before = json.dumps(state, sort_keys=True)
    code = 0
    for name in names:
        if remove:
            state["modules"] = [m for m in state["modules"] if m != name.replace("-", "_")]
        elif not _load(state, name):
            if not quiet:
                print(
                    f"modprobe: FATAL: Module {name} not found in directory "
                    f"/lib/modules/{os.uname().release}",
                    file=sys.stderr,
                )
            code = 1
    _save(state, before)
    return code


def sysctl(argv: list[str]) -> int:
    write = quiet = value_only = ignore = load = False
    args: list[str] = []
    for arg in argv:
        if arg in ("-w", "--write"):
            write = True
        elif arg in ("-q", "--quiet"):
            quiet = True
        elif arg in ("-n", "--values"):
            value_only = True
        elif arg in ("-e", "--ignore"):
            ignore = True
        elif arg in ("-p", "--load"):
            load = True
        elif arg == "--system":
            load = True
            args.append("--system")
        elif arg.startswith("-"):
            print(f"sysctl: unknown option '{arg}'", file=sys.stderr)
            return 1
        else:
            args.append(arg)
    state = _read()
    before = json.dumps(state, sort_keys=True)
    code = 0
    if load:
        lines: list[str] = []
        if "--system" in args:
            lines = _conf_lines(_etc() / "sysctl.d")
        else:
            for name in args or ["/etc/sysctl.conf"]:
                try:
                    lines += [
                        ln.strip()
                        for ln in Path(name).read_text().splitlines()
                        if ln.strip() and not ln.strip().startswith(("#", ";"))
                    ]
                except OSError:
                    print(f"sysctl: cannot open \"{name}\": No such file or directory",
                          file=sys.stderr)  # fmt: skip
                    return 255
        args = lines
        write = True
    for arg in args:
        if write or "=" in arg:
            key, sep, value = arg.partition("=")
            if not sep:
                print(f'sysctl: "{arg}" must be of the form name=value', file=sys.stderr)
                code = 255
                continue
            key, value = key.strip(), value.strip()
            error = _set(state, key, value)
            if error is not None:
                if not ignore:
                    print(error, file=sys.stderr)
                    code = 255
                continue
            if not quiet:
                print(value if value_only else f"{key} = {value}")
        else:
            found = _get(state, arg)
            if found is None:
                if not ignore:
                    print(f"sysctl: cannot stat {_proc_path(arg)}: No such file or directory",
                          file=sys.stderr)  # fmt: skip
                    code = 255
                continue
            print(found if value_only else f"{arg.replace('/', '.')} = {found}")
    _save(state, before)
    return code


def swapon(argv: list[str]) -> int:
    show: str | None = None
    headings = True
    activate_all = False
    areas: list[str] = []
    for arg in argv:
        if arg == "--show":
            show = "NAME,TYPE,SIZE,USED,PRIO"
        elif arg.startswith("--show="):
            show = arg.split("=", 1)[1]
        elif arg == "--noheadings":
            headings = False
        elif arg in ("--raw", "--bytes"):
            pass
        elif arg in ("-a", "--all"):
            activate_all = True
        elif arg.startswith("-"):
            print(f"swapon: unrecognized option '{arg}'", file=sys.stderr)
            return 1
        else:
            areas.append(arg)
    state = _read()
    before = json.dumps(state, sort_keys=True)
    if activate_all or areas:
        wanted = _fstab_swaps() if activate_all else areas
        for area in wanted:
            if area not in state["swap_areas"]:
                if not activate_all:
                    print(f"swapon: cannot open {area}: No such file or directory",
                          file=sys.stderr)  # fmt: skip
                    return 255
                continue
            if area not in state["swaps"]:
                state["swaps"].append(area)
        _save(state, before)
        return 0
    columns = (show or "NAME,TYPE,SIZE,USED,PRIO").split(",")
    values = {"NAME": "", "TYPE": "file", "SIZE": str(_SWAP_SIZE), "USED": "0", "PRIO": "-2"}
    if state["swaps"] and headings:
        print(" ".join(columns))
    for area in state["swaps"]:
        row = {**values, "NAME": area}
        print(" ".join(row.get(c, "") for c in columns))
    return 0


def swapoff(argv: list[str]) -> int:
    everything = False
    areas: list[str] = []
    for arg in argv:
        if arg in ("-a", "--all"):
            everything = True
        elif arg.startswith("-"):
            print(f"swapoff: unrecognized option '{arg}'", file=sys.stderr)
            return 1
        else:
            areas.append(arg)
    if not everything and not areas:
        print("swapoff: bad usage", file=sys.stderr)
        return 1
    state = _read()
    before = json.dumps(state, sort_keys=True)
    for area in areas:
        if area not in state["swaps"]:
            print(f"swapoff: {area}: swapoff failed: Invalid argument", file=sys.stderr)
            return 255
    state["swaps"] = [] if everything else [s for s in state["swaps"] if s not in areas]
    _save(state, before)
    return 0


PROGRAMS = {
    "lsmod": lsmod,
    "modprobe": modprobe,
    "sysctl": sysctl,
    "swapon": swapon,
    "swapoff": swapoff,
}


def main(argv: list[str], name: str) -> int:
    """Run the program called ``name`` (the zip application's launcher passes the name it was
    run as, ``PROGRAM``: runpy replaces ``sys.argv[0]``)."""
    program = PROGRAMS.get(name)
    if program is None:
        print(f"{name}: not an emulated kernel program ({', '.join(PROGRAMS)})", file=sys.stderr)
        return 2
    return program(argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:], str(globals().get("PROGRAM", os.path.basename(sys.argv[0])))))
