"""Failed requests through the VIP while one master fails (sealer-care, nftables backend).

Builds a node in a network namespace (tests/lb/netlab.py: three HTTPS stand-in masters, the
care daemon), runs a client inside it that makes sequential HTTPS requests to the VIP (a new
connection each, a short timeout) for ``--seconds``, and fails one master after ``--fail-at``
seconds. Prints how many requests failed, how long the master stayed in the rules, and whether
any request failed once it was out. Needs root (ip netns, nft). Run from the repository root:

    python bench/lb_failover.py --mode kill      # process gone: connection refused
    python bench/lb_failover.py --mode freeze    # SIGSTOP: accepts TCP, never answers
    python bench/lb_failover.py --mode 500       # answers /readyz with 500
"""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.lb.netlab import MASTERS, PORT, VIP, NetLab, wait_for

CLIENT = r"""
import http.client, json, ssl, sys, time
ca, vip = sys.argv[1], sys.argv[2]
port, seconds, timeout = int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5])
context = ssl.create_default_context(cafile=ca)
end = time.monotonic() + seconds
while time.monotonic() < end:
    start = time.time()
    try:
        conn = http.client.HTTPSConnection(vip, port, timeout=timeout, context=context)
        conn.request("GET", "/readyz", headers={"Connection": "close"})
        response = conn.getresponse()
        body = response.read().decode()
        conn.close()
        ok, detail = response.status == 200, "%d %s" % (response.status, body)
    except Exception as exc:
        ok, detail = False, type(exc).__name__
    print(json.dumps({"t": start, "ok": ok, "detail": detail}), flush=True)
    if not ok:
        time.sleep(0.01)
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=("kill", "freeze", "500"), default="kill")
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--fail-at", type=float, default=3.0)
    parser.add_argument("--interval", type=float, default=1.0)
    parser.add_argument("--timeout", type=float, default=0.5, help="probe timeout")
    parser.add_argument("--fall", type=int, default=2)
    parser.add_argument("--rise", type=int, default=2)
    parser.add_argument("--client-timeout", type=float, default=0.5)
    args = parser.parse_args()

    victim = MASTERS[0]
    with tempfile.TemporaryDirectory(prefix="lb-bench-") as tmp:
        lab = NetLab(Path(tmp))
        client: subprocess.Popen[str] | None = None
        try:
            lab.create()
            for master in MASTERS:
                lab.start_server(master)
            lab.write_config(
                interval=args.interval, timeout=args.timeout, fall=args.fall, rise=args.rise
            )
            lab.start_daemon()
            lab.wait_rules(MASTERS)
            assert lab.pki is not None
            client = subprocess.Popen(
                lab.ns(
                    sys.executable,
                    "-c",
                    CLIENT,
                    str(lab.pki.ca),
                    VIP,
                    str(PORT),
                    str(args.seconds),
                    str(args.client_timeout),
                ),
                stdout=subprocess.PIPE,
                text=True,
            )
            assert client.stdout is not None
            first = client.stdout.readline()  # the client is running (Python starts slowly)
            time.sleep(args.fail_at)
            failed_at = time.time()
            if args.mode == "kill":
                lab.servers[victim].kill()
            elif args.mode == "freeze":
                lab.servers[victim].send_signal(signal.SIGSTOP)
            else:
                lab.set_status(victim, 500)
            wait_for(
                "victim out of the rules",
                lambda: True if victim not in (lab.rules() or [victim]) else None,
                timeout=60,
            )
            removed_at = time.time()
            rest, _ = client.communicate(timeout=args.seconds + 60)
            out = first + rest
            client = None
            if args.mode == "freeze":
                lab.servers[victim].send_signal(signal.SIGCONT)
        finally:
            if client is not None:
                client.kill()
                client.wait()
            lab.close()

    records = [json.loads(line) for line in out.splitlines() if line.strip()]
    failures = [r for r in records if not r["ok"]]
    late = [r for r in failures if r["t"] > removed_at]
    before = [r for r in records if r["t"] < failed_at]
    window = [r for r in records if failed_at <= r["t"] <= removed_at]
    summary = {
        "mode": args.mode,
        "interval_s": args.interval,
        "probe_timeout_s": args.timeout,
        "fall": args.fall,
        "client_timeout_s": args.client_timeout,
        "requests": len(records),
        "failed": len(failures),
        "failed_before_failure": sum(1 for r in before if not r["ok"]),
        "failed_after_removal": len(late),
        "requests_while_in_rules": len(window),
        "removal_latency_s": round(removed_at - failed_at, 2),
        "failure_kinds": sorted({r["detail"] for r in failures}),
    }
    print(json.dumps(summary, indent=1))
    print(
        f"{args.mode}: {len(failures)} of {len(records)} requests failed; the master left the "
        f"rules {removed_at - failed_at:.2f} s after failing; {len(late)} failed after that"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
