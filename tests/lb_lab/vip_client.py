"""Run on a lab node with the system python3: HTTPS requests through the VIP until stdin closes.

Each request is a new connection (so each goes through the DNAT decision again) to
``https://NAME:PORT/healthz``, certificate verified against CA, total timeout TIMEOUT seconds.
Prints one JSON object at the end: total, failed, and each failure with its wall-clock time.
Standalone on purpose (stdlib only): the lab hosts run it as ``python3 -c SOURCE``.
"""

import json
import ssl
import sys
import threading
import time
import urllib.request
from typing import Any


def main() -> None:
    name, port, ca, timeout = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
    url = f"https://{name}:{port}/healthz"
    context = ssl.create_default_context(cafile=ca)
    stop = threading.Event()
    result: dict[str, Any] = {"total": 0, "failed": 0, "failures": [], "first": None, "last": None}

    def loop() -> None:
        while not stop.is_set():
            now = time.time()
            try:
                with urllib.request.urlopen(url, context=context, timeout=timeout) as answer:
                    body = answer.read()
                    ok = answer.status == 200 and body == b"ok"
                    error = None if ok else f"status {answer.status} {body[:40]!r}"
            except Exception as exc:  # every failure is data here
                ok, error = False, f"{type(exc).__name__}: {exc}"
            result["total"] += 1
            result["first"] = result["first"] or now
            result["last"] = now
            if not ok:
                result["failed"] += 1
                result["failures"].append([round(now, 3), error])
                time.sleep(0.05)

    worker = threading.Thread(target=loop)
    worker.start()
    sys.stdin.read()
    stop.set()
    worker.join()
    print(json.dumps(result))


main()
