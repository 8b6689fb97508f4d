"""``journalctl -u UNIT [-n N] [-f] [--no-pager]``: the emulated systemd's per-unit log.

Units' output is kept in /run/systemd-emu/<unit>.log by the supervisor (there is no journal);
this prints it as ``journalctl -o cat`` would. ``-f`` follows until interrupted.
"""

from __future__ import annotations

import sys
import time

from sealer_lab.emulate import sdstate, units

__all__ = ["main"]


def main(argv: list[str]) -> int:
    unit_names: list[str] = []
    lines: int | None = None
    follow = False
    i = 0
    while i < len(argv):
        a = argv[i]
        if a in ("-u", "--unit"):
            i += 1
            unit_names.append(argv[i] if i < len(argv) else "")
        elif a.startswith("--unit="):
            unit_names.append(a.split("=", 1)[1])
        elif a.startswith("-u") and len(a) > 2:
            unit_names.append(a[2:])
        elif a in ("-n", "--lines"):
            i += 1
            lines = int(argv[i]) if i < len(argv) else 10
        elif a.startswith("--lines="):
            lines = int(a.split("=", 1)[1])
        elif a in ("-f", "--follow"):
            follow = True
        elif a in ("--no-pager", "-x", "-e", "-xe", "-xeu", "-q", "--quiet", "-o", "cat"):
            if a == "-xeu" and i + 1 < len(argv):
                i += 1
                unit_names.append(argv[i])
        elif a.startswith("-"):
            print(f"journalctl: unrecognized option '{a}'", file=sys.stderr)
            return 1
        i += 1
    if not unit_names:
        print("journalctl: only -u UNIT is emulated in the lab", file=sys.stderr)
        return 1
    for name in unit_names:
        path = sdstate.log_path(units.normalize(name))
        try:
            text = path.read_text(errors="replace")
        except OSError:
            print("-- No entries --")
            continue
        out = text.splitlines()
        if lines is not None:
            out = out[-lines:] if lines else []
        for line in out:
            print(line)
        if follow:
            sys.stdout.flush()
            with path.open(errors="replace") as fh:
                fh.seek(0, 2)
                try:
                    while True:
                        chunk = fh.readline()
                        if chunk:
                            sys.stdout.write(chunk)
                            sys.stdout.flush()
                        else:
                            time.sleep(0.2)
                except KeyboardInterrupt:
                    return 0
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
