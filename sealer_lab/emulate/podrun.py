"""Static pod manifest -> host process (the emulated container runtime's one job).

An image is mapped to a host program by the image's repository name:

* ``etcd``                    -> /usr/bin/etcd (the machine's etcd 3.4) with the manifest's
                                 flags, mapped where etcd 3.4 lacks a 3.5/3.6 flag
* ``kube-apiserver``          -> ``python3 -m sealer_lab.emulate.apiserver`` with its flags
* ``kube-controller-manager`` -> ``python3 -m sealer_lab.emulate.controlplane controller-manager``
* ``kube-scheduler``          -> ``python3 -m sealer_lab.emulate.controlplane scheduler``
* anything else               -> the container's ``command`` + ``args`` when ``command[0]`` is a
                                 program on the host (absolute path, or found on PATH)
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass
from typing import Any

from sealer_lab.emulate import runtime

__all__ = ["ETCD_BINARY", "PodProcess", "etcd_flags", "image_name", "plan_pod"]

ETCD_BINARY = "/usr/bin/etcd"

# etcd 3.5/3.6 flags that etcd 3.4.23 rejects, and what they become.
ETCD_FLAG_MAP: dict[str, str | None] = {
    "--feature-gates=InitialCorruptCheck=true": "--experimental-initial-corrupt-check=true",
    "--experimental-compact-hash-check-enabled": None,
    "--experimental-compact-hash-check-time": None,
    "--experimental-snapshot-catchup-entries": None,
    "--experimental-max-learners": None,
    "--experimental-stop-grpc-service-on-defrag": None,
    "--experimental-enable-lease-checkpoint-persist": None,
    "--feature-gates": None,
    "--snapshot-catchup-entries": None,
}


@dataclass(frozen=True)
class PodProcess:
    """How one static pod runs on the host."""

    pod: str  # <name>-<node>
    namespace: str
    argv: tuple[str, ...]
    env: tuple[tuple[str, str], ...]
    digest: str  # of the manifest: a change restarts the pod
    labels: tuple[tuple[str, str], ...] = ()
    annotations: tuple[tuple[str, str], ...] = ()
    error: str = ""


def image_name(image: str) -> tuple[str, str]:
    """(repository base name, tag) of an image reference."""
    ref = image.split("@", 1)[0]
    last = ref.rsplit("/", 1)[-1]
    name, _, tag = last.partition(":")
    return name, tag


def etcd_flags(flags: list[str]) -> list[str]:
    out: list[str] = []
    for flag in flags:
        if flag in ETCD_FLAG_MAP:
            mapped = ETCD_FLAG_MAP[flag]
            if mapped:
                out.append(mapped)
            continue
        key = flag.split("=", 1)[0]
        if key in ETCD_FLAG_MAP and ETCD_FLAG_MAP[key] is None:
            continue
        out.append(flag)
    return out


def plan_pod(manifest: dict[str, Any], node: str, code: str = "") -> PodProcess:
    """How a manifest runs; ``code`` is the PYTHONPATH for the Python stand-ins."""
    meta = manifest.get("metadata") or {}
    name = f"{meta.get('name', 'unnamed')}-{node}"
    namespace = str(meta.get("namespace") or "default")
    digest = hashlib.sha256(json.dumps(manifest, sort_keys=True).encode()).hexdigest()[:16]
    labels = tuple(sorted((str(k), str(v)) for k, v in (meta.get("labels") or {}).items()))
    annotations = tuple(
        sorted((str(k), str(v)) for k, v in (meta.get("annotations") or {}).items())
    )
    containers = (manifest.get("spec") or {}).get("containers") or []
    if not containers:
        return PodProcess(name, namespace, (), (), digest, labels, annotations, "no containers")
    c = containers[0]
    command = [str(a) for a in c.get("command") or []]
    args = [str(a) for a in c.get("args") or []]
    env = tuple(
        (str(e["name"]), str(e.get("value", ""))) for e in c.get("env") or [] if "name" in e
    )
    image, tag = image_name(str(c.get("image", "")))
    words = command + args

    def pod(argv: list[str], extra_env: tuple[tuple[str, str], ...] = ()) -> PodProcess:
        return PodProcess(
            name, namespace, tuple(argv), env + extra_env, digest, labels, annotations
        )

    py_env = (("PYTHONPATH", code or runtime.code_root()), ("SEALER_LAB_K8S_VERSION", tag))
    if image == "etcd":
        flags = words[1:] if words and not words[0].startswith("-") else words
        return pod([ETCD_BINARY, *etcd_flags(flags)])
    if image == "kube-apiserver":
        flags = words[1:] if words and not words[0].startswith("-") else words
        return pod(runtime.module_argv("sealer_lab.emulate.apiserver", *flags), py_env)
    if image in ("kube-controller-manager", "kube-scheduler"):
        flags = words[1:] if words and not words[0].startswith("-") else words
        role = image.removeprefix("kube-")
        return pod(runtime.module_argv("sealer_lab.emulate.controlplane", role, *flags), py_env)
    if command and (command[0].startswith("/") or shutil.which(command[0])):
        program = command[0] if command[0].startswith("/") else shutil.which(command[0])
        return pod([str(program), *command[1:], *args])
    return PodProcess(
        name,
        namespace,
        (),
        env,
        digest,
        labels,
        annotations,
        f'failed to pull and unpack image "{c.get("image", "")}": no host program for it',
    )
