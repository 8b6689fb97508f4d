"""The emulated kubelet: static pods and the API's pods bound to its node as host processes,
Node registration and heartbeats.

The Node is Ready only once the runtime's network is ready (a CNI configuration in
/etc/cni/net.d, :mod:`cninet`); until then Ready is False with the real kubelet's reason and
message, and only host-network pods are started (as the real kubelet refuses a pod sandbox
without a network).

The container runtime must answer on ``--container-runtime-endpoint`` (default containerd's
socket) when the kubelet starts, or it exits 1 with the real kubelet's ``validate service
connection: validate CRI v1 runtime API for endpoint ...`` (systemd restarts it).

Flags as the real kubelet takes them from 10-kubeadm.conf and kubeadm-flags.env. Pod processes
run in their own sessions (as containers live outside the kubelet's cgroup), so stopping the
kubelet leaves them running; a restarted kubelet adopts them from its state file.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import platform
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from sealer_lab.emulate import cninet, cri, kubeconfig, pki, podrun, runtime, versions, yamlio
from sealer_lab.emulate.kubeapi import ApiError, Client

__all__ = ["Flags", "main", "parse_flags"]

STATE_DIR = Path("/var/lib/kubelet/emulate")
LOG_DIR = Path("/var/lib/kubelet/pod-logs")
MAX_BACKOFF = 10.0
HEARTBEAT = 10.0
API_PODS_EVERY = 2.0
MIRROR_ANNOTATION = "kubernetes.io/config.mirror"

VALUE_FLAGS = {
    "--bootstrap-kubeconfig",
    "--kubeconfig",
    "--config",
    "--container-runtime-endpoint",
    "--pod-infra-container-image",
    "--node-ip",
    "--hostname-override",
    "--node-labels",
    "--register-with-taints",
    "--cgroup-driver",
    "--v",
    "--fail-swap-on",
    "--cert-dir",
    "--runtime-request-timeout",
    "--network-plugin",
    "--cni-bin-dir",
    "--cni-conf-dir",
    "--root-dir",
    "--max-pods",
    "--provider-id",
    "--cloud-provider",
    "--rotate-certificates",
    "--register-node",
    "--pod-manifest-path",
    "--resolv-conf",
    "--image-service-endpoint",
}
BOOL_FLAGS = {"--version", "--help", "--fail-swap-on", "--rotate-certificates", "--register-node"}


class FlagError(Exception):
    pass


@dataclass
class Flags:
    values: dict[str, str] = field(default_factory=dict)

    def get(self, name: str, default: str = "") -> str:
        return self.values.get(name, default)


def parse_flags(argv: list[str]) -> Flags:
    flags = Flags()
    i = 0
    while i < len(argv):
        a = argv[i]
        if not a.startswith("-"):
            raise FlagError(f'unknown command {a!r} for "kubelet"')
        key, sep, value = a.partition("=")
        if key.startswith("--") is False:
            key = "-" + key if len(key) == 2 else key
        if key == "-v":
            key = "--v"
        if key not in VALUE_FLAGS and key not in BOOL_FLAGS:
            raise FlagError(f"unknown flag: {key}")
        if not sep:
            if key in BOOL_FLAGS:
                value = "true"
            else:
                i += 1
                if i >= len(argv):
                    raise FlagError(f"flag needs an argument: {key}")
                value = argv[i]
        flags.values[key] = value
        i += 1
    return flags


def log(level: str, message: str) -> None:
    now = dt.datetime.now()
    stamp = now.strftime("%m%d %H:%M:%S.%f")
    sys.stderr.write(f"{level}{stamp} {os.getpid():>7} kubelet.go:0] {message}\n")
    sys.stderr.flush()


def node_ip(server: str, given: str) -> str:
    if given:
        return given.split(",")[0]
    host = urllib.parse.urlsplit(server).hostname or "" if server else ""
    target = host
    try:
        target = socket.gethostbyname(host) if host else ""
    except OSError:
        target = ""
    if target and not target.startswith("127."):
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.connect((target, 6443))
                addr: str = s.getsockname()[0]
                return addr
        except OSError:
            pass
    try:
        return socket.gethostbyname(socket.gethostname())
    except OSError:
        return "127.0.0.1"


@dataclass
class PodState:
    pid: int = 0
    start: int = -1
    digest: str = ""
    restarts: int = 0
    next_start: float = 0.0
    backoff: float = 0.0
    started_at: str = ""
    api: bool = False  # a pod of the API (not a static pod)


class Kubelet:
    def __init__(self, flags: Flags, config: dict[str, Any]) -> None:
        self.flags = flags
        self.config = config
        self.manifest_dir = Path(
            flags.get("--pod-manifest-path")
            or config.get("staticPodPath")
            or "/etc/kubernetes/manifests"
        )
        self.node = (flags.get("--hostname-override") or socket.gethostname()).lower()
        self.version = runtime.k8s_version()
        self.pods: dict[str, PodState] = {}
        self.plans: dict[str, podrun.PodProcess] = {}
        self.stop = threading.Event()
        self.client: Client | None = None
        self.registered = False
        self.mirrors: set[str] = set()
        self.mirror_retry: dict[str, float] = {}
        # pods the API binds to this node: name -> (the Pod, how it runs)
        self.api_pods: dict[str, tuple[dict[str, Any], podrun.PodProcess]] = {}
        self.api_reported: dict[str, str] = {}  # pod -> "<uid>/<pid>" whose status was posted
        self.api_listed = 0.0
        self.static_names: set[str] = set()
        STATE_DIR.mkdir(parents=True, exist_ok=True)
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        self.code = runtime.stable_code_root(STATE_DIR / "code")
        self._load_state()

    # --- pod state -------------------------------------------------------------------------
    def _state_file(self) -> Path:
        return STATE_DIR / "pods.json"

    def _load_state(self) -> None:
        try:
            data = json.loads(self._state_file().read_text())
        except (OSError, ValueError):
            return
        for name, entry in data.items():
            st = PodState(**entry)
            if runtime.pid_alive(st.pid) and runtime.start_time(st.pid) == st.start:
                self.pods[name] = st
                log("I", f'"Adopted running static pod" pod="{name}" pid={st.pid}')

    def _save_state(self) -> None:
        data = {n: s.__dict__ for n, s in self.pods.items()}
        tmp = self._state_file().with_suffix(".tmp")
        tmp.write_text(json.dumps(data))
        os.replace(tmp, self._state_file())

    def _read_manifests(self) -> dict[str, podrun.PodProcess]:
        plans: dict[str, podrun.PodProcess] = {}
        if not self.manifest_dir.is_dir():
            return plans
        for path in sorted(self.manifest_dir.iterdir()):
            if path.name.startswith(".") or path.suffix not in (".yaml", ".yml", ".json"):
                continue
            try:
                doc = yamlio.load(path.read_text())
            except Exception as exc:  # a broken manifest is skipped, as the kubelet does
                log("E", f'"Could not process manifest file" err="{exc}" path="{path}"')
                continue
            if not isinstance(doc, dict) or doc.get("kind") != "Pod":
                continue
            plan = podrun.plan_pod(doc, self.node, self.code)
            plans[plan.pod] = plan
        return plans

    def _start(self, plan: podrun.PodProcess, st: PodState) -> None:
        logf = open(LOG_DIR / f"{plan.namespace}_{plan.pod}.log", "ab")  # noqa: SIM115
        env = {"PATH": runtime.SYSTEM_PATH, "LANG": "C.UTF-8", **dict(plan.env)}
        try:
            proc = subprocess.Popen(
                list(plan.argv),
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=logf,
                stderr=logf,
                start_new_session=True,
                close_fds=True,
                cwd="/",
            )
        except OSError as exc:
            log("E", f'"Error syncing pod" pod="{plan.pod}" err="{exc}"')
            st.next_start = time.monotonic() + max(st.backoff, 1.0)
            return
        finally:
            logf.close()
        st.pid, st.start, st.digest = proc.pid, runtime.start_time(proc.pid), plan.digest
        st.started_at = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        kind = "pod" if st.api else "static pod"
        log("I", f'"Started {kind}" pod="{plan.pod}" pid={proc.pid}')

    def _kill(self, name: str, st: PodState) -> None:
        if st.pid and runtime.pid_alive(st.pid) and runtime.start_time(st.pid) == st.start:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(st.pid, signal.SIGTERM)
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and runtime.pid_alive(st.pid):
                self._reap()
                time.sleep(0.05)
            if runtime.pid_alive(st.pid):
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(st.pid, signal.SIGKILL)
        log("I", f'"Killed static pod" pod="{name}"')
        st.pid = 0

    def _reap(self) -> None:
        try:
            while True:
                pid, _ = os.waitpid(-1, os.WNOHANG)
                if pid == 0:
                    break
        except ChildProcessError:
            pass

    def _api_plans(self) -> dict[str, podrun.PodProcess]:
        """The API's pods for this node that may run now: host-network ones always, the
        others once the network is ready."""
        ready = cninet.network_ready()
        plans: dict[str, podrun.PodProcess] = {}
        for name, (obj, plan) in self.api_pods.items():
            if not ready and not (obj.get("spec") or {}).get("hostNetwork"):
                continue
            plans[name] = plan
        return plans

    def sync_pods(self) -> None:
        self._reap()
        static = self._read_manifests()
        plans = {**self._api_plans(), **static}
        for name in list(self.pods):
            if name not in plans:
                if self.pods[name].api and not self.api_listed:
                    continue  # adopted after a restart: kept until the API's pods are known
                self._kill(name, self.pods.pop(name))
                self._delete_mirror(name)
        now = time.monotonic()
        for name, plan in plans.items():
            st = self.pods.setdefault(name, PodState())
            st.api = name not in static
            if plan.error:
                if self.plans.get(name) != plan:
                    log("E", f'"Error syncing pod" pod="{name}" err="{plan.error}"')
                continue
            alive = (
                bool(st.pid)
                and runtime.pid_alive(st.pid)
                and (runtime.start_time(st.pid) == st.start)
            )
            if alive and st.digest != plan.digest:
                self._kill(name, st)
                alive = False
                st.backoff, st.next_start = 0.0, 0.0
            if alive:
                continue
            if st.pid:  # it died: back off as CrashLoopBackOff does (capped lower here)
                st.restarts += 1
                st.backoff = min(MAX_BACKOFF, max(1.0, st.backoff * 2))
                st.next_start = now + st.backoff
                log("I", f'"Container exited, back-off restarting" pod="{name}"')
                st.pid = 0
            if now >= st.next_start:
                self._start(plan, st)
        self.plans = plans
        self.static_names = set(static)
        self._save_state()

    # --- API server ------------------------------------------------------------------------
    def _client(self) -> Client | None:
        kc = Path(self.flags.get("--kubeconfig") or "/etc/kubernetes/kubelet.conf")
        boot = self.flags.get("--bootstrap-kubeconfig")
        if not kc.is_file() and boot and Path(boot).is_file():
            tls_bootstrap(Path(boot), kc, self.node)
        if not kc.is_file():
            return None
        try:
            return Client.from_kubeconfig(kubeconfig.load(kc), timeout=5.0)
        except (OSError, ValueError) as exc:
            log("E", f'"Failed to load kubeconfig" path="{kc}" err="{exc}"')
            return None

    def _node_object(self, ip: str) -> dict[str, Any]:
        labels = {
            "beta.kubernetes.io/arch": "amd64",
            "beta.kubernetes.io/os": "linux",
            "kubernetes.io/arch": "amd64",
            "kubernetes.io/hostname": self.node,
            "kubernetes.io/os": "linux",
        }
        for pair in filter(None, self.flags.get("--node-labels").split(",")):
            k, _, v = pair.partition("=")
            labels[k] = v
        taints = []
        for spec in filter(None, self.flags.get("--register-with-taints").split(",")):
            kv, _, effect = spec.partition(":")
            k, _, v = kv.partition("=")
            taint = {"key": k, "effect": effect}
            if v:
                taint["value"] = v
            taints.append(taint)
        node_spec: dict[str, Any] = {"taints": taints} if taints else {}
        return {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {
                "name": self.node,
                "labels": labels,
                "annotations": {
                    "node.alpha.kubernetes.io/ttl": "0",
                    "volumes.kubernetes.io/controller-managed-attach-detach": "true",
                },
            },
            "spec": node_spec,
            "status": self._status(ip),
        }

    def _status(self, ip: str) -> dict[str, Any]:
        now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

        def cond(kind: str, status: str, reason: str, msg: str) -> dict[str, str]:
            return {
                "type": kind,
                "status": status,
                "reason": reason,
                "message": msg,
                "lastHeartbeatTime": now,
                "lastTransitionTime": self.started,
            }

        mem_kib = 0
        try:
            with open("/proc/meminfo") as fh:
                mem_kib = int(fh.readline().split()[1])
        except (OSError, ValueError, IndexError):
            pass
        capacity = {
            "cpu": str(os.cpu_count() or 1),
            "memory": f"{mem_kib}Ki",
            "pods": "110",
            "ephemeral-storage": "10Gi",
        }
        return {
            "addresses": [
                {"type": "InternalIP", "address": ip},
                {"type": "Hostname", "address": self.node},
            ],
            "capacity": capacity,
            "allocatable": dict(capacity),
            "conditions": [
                cond(
                    "MemoryPressure",
                    "False",
                    "KubeletHasSufficientMemory",
                    "kubelet has sufficient memory available",
                ),
                cond(
                    "DiskPressure",
                    "False",
                    "KubeletHasNoDiskPressure",
                    "kubelet has no disk pressure",
                ),
                cond(
                    "PIDPressure",
                    "False",
                    "KubeletHasSufficientPID",
                    "kubelet has sufficient PID available",
                ),
                self._ready_condition(cond),
            ],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "nodeInfo": {
                "architecture": "amd64",
                "bootID": _boot_id(),
                "containerRuntimeVersion": "emulated://1.0.0",
                "kernelVersion": platform.release(),
                "kubeProxyVersion": self.version,
                "kubeletVersion": self.version,
                "machineID": "",
                "operatingSystem": "linux",
                "osImage": "Debian GNU/Linux 12 (bookworm)",
                "systemUUID": "",
            },
        }

    started = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    def _ready_condition(self, cond: Any) -> dict[str, str]:
        ready = cninet.network_ready()
        if ready != self.network_was_ready:
            self.network_was_ready = ready
            self.ready_since = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        if ready:
            out: dict[str, str] = cond(
                "Ready", "True", "KubeletReady", "kubelet is posting ready status"
            )
        else:
            out = cond("Ready", "False", "KubeletNotReady", cninet.NOT_READY_MESSAGE)
        out["lastTransitionTime"] = self.ready_since
        return out

    ready_since = started
    network_was_ready: bool | None = None  # as last posted

    def heartbeat(self) -> None:
        if self.client is None:
            self.client = self._client()
            if self.client is None:
                return
        c = self.client
        ip = node_ip(c.server, self.flags.get("--node-ip"))
        path = f"/api/v1/nodes/{self.node}"
        try:
            skew = self._newer_than_apiserver(c)
            if skew:
                # The version skew policy: a kubelet must not be newer than the API server.
                # The emulation holds to it strictly: no registration, no status, so its Node
                # goes NotReady (a real kubelet may limp on; sealer must never ask for this).
                log("E", skew)
                return
            try:
                current = c.get(path)
            except ApiError as exc:
                if exc.status != 404:
                    raise
                if self.registered:
                    # The real kubelet registers once per run: a Node deleted under a running
                    # kubelet stays deleted until the kubelet restarts.
                    log(
                        "E",
                        '"Error updating node status, will retry" err="error getting node '
                        f'\\"{self.node}\\": nodes \\"{self.node}\\" not found"',
                    )
                    return
                c.create("/api/v1/nodes", self._node_object(ip))
                log("I", f'"Successfully registered node" node="{self.node}"')
                self.registered = True
                return
            current["status"] = {**current.get("status", {}), **self._status(ip)}
            try:
                c.put(f"{path}/status", current)
            except ApiError as exc:
                if exc.status not in (404, 405):
                    raise
                c.put(path, current)
            self.registered = True
            self._lease()
            self._mirror_pods()
            self._list_api_pods()
        except ApiError as exc:
            log("E", f'"Error updating node status, will retry" err="{exc.message}"')
            if exc.status in (401, 403):
                self.client = None

    def _newer_than_apiserver(self, c: Client) -> str:
        """Why this kubelet may not talk to the API server (empty when it may)."""
        info = c.get("/version")
        server = versions.parse_version(str(info.get("gitVersion", "")))
        mine = versions.parse_version(self.version)
        if server is None or mine is None:
            return ""
        if (mine.major, mine.minor) > (server.major, server.minor):
            return (
                f'"Unsupported version skew: the kubelet is newer than the API server" '
                f'kubeletVersion="{mine}" apiServerVersion="{server}"'
            )
        return ""

    def _lease(self) -> None:
        assert self.client is not None
        now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        path = "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases"
        lease = {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": {"name": self.node, "namespace": "kube-node-lease"},
            "spec": {"holderIdentity": self.node, "leaseDurationSeconds": 40, "renewTime": now},
        }
        with contextlib.suppress(ApiError):  # coordination.k8s.io may not be served
            self.client.apply(path, lease)

    def _mirror_pods(self) -> None:
        assert self.client is not None
        for name, plan in self.plans.items():
            st = self.pods.get(name)
            if name in self.api_pods or name in self.mirrors or st is None or not st.pid:
                continue
            if self.mirror_retry.get(name, 0.0) > time.monotonic():
                continue
            pod = {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {
                    "name": name,
                    "namespace": plan.namespace,
                    "labels": dict(plan.labels),
                    "annotations": {
                        **dict(plan.annotations),
                        "kubernetes.io/config.mirror": plan.digest,
                        "kubernetes.io/config.source": "file",
                    },
                },
                "spec": {
                    "nodeName": self.node,
                    "hostNetwork": True,
                    "containers": [{"name": name.rsplit("-", 1)[0], "image": "emulated"}],
                },
                "status": {"phase": "Running", "startTime": st.started_at},
            }
            try:
                created = self.client.apply(f"/api/v1/namespaces/{plan.namespace}/pods", pod)
                self._pod_status(plan.namespace, name, created, st.started_at)
                self.mirrors.add(name)
            except ApiError as exc:
                self.mirror_retry[name] = time.monotonic() + 10.0
                log("E", f'"Failed creating a mirror pod" pod="{name}" err="{exc.message}"')

    def _pod_status(self, namespace: str, name: str, obj: dict[str, Any], started: str) -> None:
        assert self.client is not None
        ip = node_ip(self.client.server, self.flags.get("--node-ip"))
        container = ((obj.get("spec") or {}).get("containers") or [{}])[0].get("name", name)
        cond = [
            {"type": t, "status": "True", "lastTransitionTime": started}
            for t in ("Initialized", "Ready", "ContainersReady", "PodScheduled")
        ]
        obj["status"] = {
            "phase": "Running",
            "conditions": cond,
            "hostIP": ip,
            "podIP": ip,
            "podIPs": [{"ip": ip}],
            "startTime": started,
            "containerStatuses": [
                {
                    "name": container,
                    "ready": True,
                    "started": True,
                    "restartCount": self.pods[name].restarts if name in self.pods else 0,
                    "image": "emulated",
                    "imageID": "",
                    "state": {"running": {"startedAt": started}},
                }
            ],
        }
        path = f"/api/v1/namespaces/{namespace}/pods/{name}/status"
        try:
            self.client.put(path, obj)
        except ApiError:
            self.client.put(path.removesuffix("/status"), obj)

    def _list_api_pods(self) -> None:
        """The pods the API binds to this node (not mirror pods), planned as host processes."""
        assert self.client is not None
        self.api_listed = time.monotonic()
        try:
            listed = self.client.get(
                "/api/v1/pods", {"fieldSelector": f"spec.nodeName={self.node}"}
            )
        except ApiError as exc:
            log("E", f'"Failed to list pods" err="{exc.message}"')
            return
        pods: dict[str, tuple[dict[str, Any], podrun.PodProcess]] = {}
        for obj in listed.get("items") or []:
            meta = obj.get("metadata") or {}
            if MIRROR_ANNOTATION in (meta.get("annotations") or {}) or meta.get(
                "deletionTimestamp"
            ):
                continue
            plan = podrun.plan_pod(obj, self.node, self.code, static=False)
            pods[plan.pod] = (obj, plan)
        self.api_pods = pods

    def _report_api_pods(self) -> None:
        """Post the status of each running API pod once per (pod uid, process)."""
        assert self.client is not None
        for name, (obj, plan) in self.api_pods.items():
            st = self.pods.get(name)
            if st is None or not st.pid:
                continue
            key = f"{obj['metadata'].get('uid', '')}/{st.pid}"
            if self.api_reported.get(name) == key:
                continue
            try:
                current = self.client.get(f"/api/v1/namespaces/{plan.namespace}/pods/{name}")
                self._pod_status(plan.namespace, name, current, st.started_at)
            except ApiError as exc:
                log("E", f'"Failed to update pod status" pod="{name}" err="{exc.message}"')
                continue
            self.api_reported[name] = key

    def _delete_mirror(self, name: str) -> None:
        self.api_reported.pop(name, None)
        if name not in self.static_names:
            return  # an API pod: the API removed it (or it waits for the network)
        plan = self.plans.get(name)
        self.mirrors.discard(name)
        if self.client is None or plan is None:
            return
        with contextlib.suppress(ApiError):
            self.client.delete(f"/api/v1/namespaces/{plan.namespace}/pods/{name}")

    # --- main loop -------------------------------------------------------------------------
    def run(self) -> None:
        last_beat = 0.0
        while not self.stop.is_set():
            self.sync_pods()
            # Until the node is Ready its status is posted as soon as readiness changes (the
            # real kubelet's fast node status update at start-up), then every HEARTBEAT.
            changed = self.registered and cninet.network_ready() != self.network_was_ready
            if changed or time.monotonic() - last_beat >= (HEARTBEAT if self.registered else 2.0):
                last_beat = time.monotonic()
                self.heartbeat()
            elif self.registered and self.client is not None:
                self._mirror_pods()
                if time.monotonic() - self.api_listed >= API_PODS_EVERY:
                    self._list_api_pods()
            if self.registered and self.client is not None:
                self._report_api_pods()
            self.stop.wait(1.0)


PKI_DIR = Path("/var/lib/kubelet/pki")


def tls_bootstrap(boot: Path, kc: Path, node: str) -> bool:
    """Request a client certificate with the bootstrap token (a CertificateSigningRequest for
    signer kubernetes.io/kube-apiserver-client-kubelet), then write kubelet.conf using it."""
    import base64

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import NameOID

    cfg = kubeconfig.load(boot)
    client = Client.from_kubeconfig(cfg, timeout=5.0)
    key = pki.new_key()
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(
            x509.Name(
                [
                    x509.NameAttribute(NameOID.ORGANIZATION_NAME, "system:nodes"),
                    x509.NameAttribute(NameOID.COMMON_NAME, f"system:node:{node}"),
                ]
            )
        )
        .sign(key, hashes.SHA256())
    )
    from cryptography.hazmat.primitives import serialization

    pem = csr.public_bytes(serialization.Encoding.PEM)
    name = f"node-csr-{os.urandom(6).hex()}"
    path = "/apis/certificates.k8s.io/v1/certificatesigningrequests"
    try:
        client.create(
            path,
            {
                "apiVersion": "certificates.k8s.io/v1",
                "kind": "CertificateSigningRequest",
                "metadata": {"name": name},
                "spec": {
                    "request": base64.b64encode(pem).decode(),
                    "signerName": "kubernetes.io/kube-apiserver-client-kubelet",
                    "usages": ["digital signature", "client auth"],
                },
            },
        )
        cert_pem = b""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not cert_pem:
            obj = client.get(f"{path}/{name}")
            issued = (obj.get("status") or {}).get("certificate")
            if issued:
                cert_pem = base64.b64decode(issued)
                break
            time.sleep(0.5)
    except ApiError as exc:
        log("E", f'"Failed to bootstrap client certificate" err="{exc.message}"')
        return False
    if not cert_pem:
        log("E", '"Timed out waiting for the client certificate"')
        return False
    PKI_DIR.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y-%m-%d-%H-%M-%S")
    current = PKI_DIR / f"kubelet-client-{stamp}.pem"
    pki.write_file(current, cert_pem + pki.key_pem(key), 0o600)
    link = PKI_DIR / "kubelet-client-current.pem"
    link.unlink(missing_ok=True)
    link.symlink_to(current)
    doc = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "cluster": {
                    "certificate-authority-data": base64.b64encode(cfg.ca_pem).decode(),
                    "server": cfg.server,
                },
                "name": "default-cluster",
            }
        ],
        "contexts": [
            {
                "context": {
                    "cluster": "default-cluster",
                    "namespace": "default",
                    "user": "default-auth",
                },
                "name": "default-context",
            }
        ],
        "current-context": "default-context",
        "preferences": {},
        "users": [
            {
                "name": "default-auth",
                "user": {"client-certificate": str(link), "client-key": str(link)},
            }
        ],
    }
    pki.write_file(kc, yamlio.dump(doc).encode(), 0o600)
    log("I", f'"Wrote kubeconfig after TLS bootstrap" path="{kc}"')
    return True


def _boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return ""


class _Healthz(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"ok"
        self.send_response(200 if self.path.startswith("/healthz") else 404)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def _serve(address: tuple[str, int]) -> ThreadingHTTPServer | None:
    try:
        server = ThreadingHTTPServer(address, _Healthz)
    except OSError as exc:
        log("E", f'"Failed to listen" address="{address[0]}:{address[1]}" err="{exc}"')
        return None
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main(argv: list[str]) -> int:
    try:
        flags = parse_flags(argv)
    except FlagError as exc:
        sys.stderr.write(f"Error: failed to parse kubelet flag: {exc}\n")
        log("E", f'"command failed" err="failed to parse kubelet flag: {exc}"')
        return 1
    if flags.get("--version"):
        print(f"Kubernetes {runtime.k8s_version()}")
        return 0
    config_path = flags.get("--config")
    config: dict[str, Any] = {}
    if config_path:
        try:
            config = yamlio.load(Path(config_path).read_text()) or {}
        except OSError as exc:
            log(
                "E",
                '"command failed" err="failed to load kubelet config file, path: '
                f"{config_path}, error: failed to load Kubelet config file {config_path}, "
                f'error failed to read kubelet config file \\"{config_path}\\", error: open '
                f'{config_path}: {exc.strerror.lower() if exc.strerror else exc}"',
            )
            return 1
    endpoint = flags.get("--container-runtime-endpoint") or cri.DEFAULT_ENDPOINT
    try:
        cri.validate(endpoint)
    except cri.CriUnavailable as exc:  # the real kubelet exits; systemd restarts it
        log("E", f'"command failed" err={json.dumps(f"failed to run Kubelet: {exc}")}')
        return 1
    kubelet = Kubelet(flags, config)
    port = int(config.get("healthzPort", 10248) or 10248)
    servers = [
        s
        for s in (
            _serve((str(config.get("healthzBindAddress", "127.0.0.1")), port)),
            _serve(("0.0.0.0", 10250)),
        )
        if s is not None
    ]

    def on_term(_signo: int, _frame: object) -> None:
        kubelet.stop.set()

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    log("I", f'"Kubelet version" kubeletVersion="{kubelet.version}"')
    try:
        kubelet.run()
    finally:
        for s in servers:
            s.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
