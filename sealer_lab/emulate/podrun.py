"""Static pod manifest -> host process (the emulated container runtime's one job).

An image is mapped to a host program by the image's repository name:

* ``etcd``                    -> /usr/bin/etcd (the machine's etcd 3.4) with the manifest's
                                 flags, mapped where etcd 3.4 lacks a 3.5/3.6 flag
* ``kube-apiserver``          -> ``python3 -m sealer_lab.emulate.apiserver`` with its flags
* ``kube-controller-manager`` -> ``python3 -m sealer_lab.emulate.controlplane controller-manager``
* ``kube-scheduler``          -> ``python3 -m sealer_lab.emulate.controlplane scheduler``
* ``calico/node``, ``flannel/flannel`` -> ``python3 -m sealer_lab.emulate.cniplugin`` (the
                                 network add-on's agent: writes the CNI configuration)
* anything else               -> the container's ``command`` + ``args`` when ``command[0]`` is a
                                 program on the host (absolute path, or found on PATH)

A pod's hostPath volumes mounted into its container are passed on as ``SEALER_LAB_MOUNTS``
(JSON, mountPath -> host path): there are no mount namespaces, so an emulated program finds
the host directory behind a mount there.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass
from typing import Any

from sealer_lab.emulate import runtime

__all__ = [
    "CNI_AGENT_IMAGES",
    "ETCD_BINARY",
    "PodProcess",
    "etcd_flags",
    "image_name",
    "image_repository",
    "plan_pod",
]

#: Image repositories (without registry) run as the emulated network add-on agent.
CNI_AGENT_IMAGES = ("calico/node", "flannel/flannel")

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


def image_repository(image: str) -> str:
    """The repository path of an image without its registry host and tag:
    ``docker.io/calico/node:v3.27.3`` -> ``calico/node``."""
    ref = image.split("@", 1)[0]
    parts = ref.split("/")
    if len(parts) > 1 and ("." in parts[0] or ":" in parts[0] or parts[0] == "localhost"):
        parts = parts[1:]
    last = parts[-1].split(":", 1)[0]
    return "/".join([*parts[:-1], last])


def _mounts(spec: dict[str, Any], container: dict[str, Any]) -> dict[str, str]:
    host_paths = {
        str(v.get("name")): str((v.get("hostPath") or {}).get("path", ""))
        for v in spec.get("volumes") or []
        if isinstance(v, dict) and v.get("hostPath")
    }
    return {
        str(m["mountPath"]): host_paths[str(m.get("name"))]
        for m in container.get("volumeMounts") or []
        if isinstance(m, dict) and m.get("mountPath") and host_paths.get(str(m.get("name")))
    }


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


def plan_pod(
    manifest: dict[str, Any], node: str, code: str = "", *, static: bool = True
) -> PodProcess:
    """How a manifest runs; ``code`` is the PYTHONPATH for the Python stand-ins. A static
    pod's name gets the node's name appended (as its mirror pod's); an API pod keeps its own."""
    meta = manifest.get("metadata") or {}
    name = f"{meta.get('name', 'unnamed')}-{node}" if static else str(meta.get("name", ""))
    namespace = str(meta.get("namespace") or "default")
    # a static pod restarts when its file changes; an API pod is another pod only when its
    # uid or spec changes (not its status, labels or resourceVersion)
    what = manifest if static else {"uid": meta.get("uid"), "spec": manifest.get("spec")}
    digest = hashlib.sha256(json.dumps(what, sort_keys=True).encode()).hexdigest()[:16]
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
    mounts = _mounts(manifest.get("spec") or {}, c)
    if mounts:
        env = (*env, ("SEALER_LAB_MOUNTS", json.dumps(mounts, sort_keys=True)))

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
    if image_repository(str(c.get("image", ""))) in CNI_AGENT_IMAGES:
        return pod(runtime.module_argv("sealer_lab.emulate.cniplugin"), py_env)
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
