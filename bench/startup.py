"""Start-up time of `sealer --version`, `--help` and `validate` against `python3 -c pass`.

    python3 bench/startup.py [--runs 21] [--clusterfile clusterfile.example.yaml]

Each command runs ``--runs`` times in turn with the others, in the same run (so a busy machine
slows them all alike); prints the median and the minimum of each, and each command's median
less the interpreter's. Run from the repository root with ``PYTHONPATH=$PWD``. Needs no root.
The target (issue #16): every sealer command here at most 0.3 s.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--clusterfile", default="clusterfile.example.yaml")
    args = parser.parse_args()
    py = sys.executable
    commands = {
        "python3 -c pass": [py, "-c", "pass"],
        "sealer --version": [py, "-m", "sealer", "--version"],
        "sealer --help": [py, "-m", "sealer", "--help"],
        "sealer validate": [py, "-m", "sealer", "validate", "-f", args.clusterfile],
    }
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(args.runs):
        for name, argv in commands.items():
            started = time.perf_counter()
            done = subprocess.run(argv, capture_output=True, check=False)
            times[name].append(time.perf_counter() - started)
            if done.returncode != 0:
                sys.stderr.write(done.stderr.decode())
                raise SystemExit(f"{name}: exit {done.returncode}")
    floor = statistics.median(times["python3 -c pass"])
    print(f"runs: {args.runs}  load average: {os.getloadavg()[0]:.2f}")
    for name, xs in times.items():
        median = statistics.median(xs)
        print(
            f"{name:<18} median {median:.3f}s  min {min(xs):.3f}s  "
            f"above python3 -c pass {median - floor:+.3f}s"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
