"""``sealer certs renew`` on one master: new leaves from the cluster's own CAs.

Back up the files about to be replaced, upload the new leaves and kubeconfigs (keys 0600),
move the control-plane static pod manifests out of ``/etc/kubernetes/manifests`` until the
kubelet has stopped them (their ports close), move them back, and wait until the master's API
server answers ``/readyz`` and its etcd member is healthy. :mod:`sealer.certops.renew_chain`
runs this for every master, one at a time, as steps of the engine; :func:`check_health` and
:func:`refusal` are its safety gate: nothing starts unless every master is healthy first.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field

from cryptography import x509

from sealer.aio import gather_all, poll_until
from sealer.certops.defaults import READY_TIMEOUT
from sealer.connect import HostAccess, Remote
from sealer.errors import PlanError, StepError
from sealer.facts import collect, hostname
from sealer.facts.cluster_ca import MissingCAFile, read_ca
from sealer.facts.health import Health, api_ready, etcd_healthy
from sealer.facts.static_pods import STATIC_PODS, StaticPod, listening_ports
from sealer.kube.pki import CA_FILES, ClusterCA, PkiFile, renew_master_leaves
from sealer.layout import ADMIN_CONF, CERTS_BACKUP_ROOT, KUBERNETES_DIR, USER_KUBECONFIG
from sealer.plan.access import host_access
from sealer.plan.state import ClusterState
from sealer.spec.model import Cluster
from sealer.steps.remote_files import upload_kubernetes_files
from sealer.steps.target import Target

__all__ = [
    "EventSink",
    "MasterHealth",
    "MasterRenewal",
    "RenewEvent",
    "RenewOptions",
    "check_health",
    "read_cluster_ca",
    "refusal",
    "renew_master",
]


@dataclass(frozen=True)
class RenewOptions:
    extra_sans: tuple[str, ...] = ()
    #: How long the kubelet may take to stop the pods once their manifests are gone (the real
    #: kubelet re-reads the directory every 20 s) and to have the master ready again.
    stop_timeout: float = 120.0
    ready_timeout: float = READY_TIMEOUT
    poll_interval: float = 1.0


@dataclass(frozen=True)
class RenewEvent:
    """Progress of one master: ``phase`` is snapshot (once, before the first master), backup,
    upload, stopping, starting, ready."""

    host: str
    phase: str
    message: str
    elapsed: float


EventSink = Callable[[RenewEvent], None]


@dataclass(frozen=True)
class MasterHealth:
    address: str
    api: Health
    etcd: Health
    manifests: tuple[str, ...]  # control-plane manifests present

    @property
    def ok(self) -> bool:
        return self.api.ok and self.etcd.ok and len(self.manifests) == len(STATIC_PODS)

    def why(self) -> str:
        reasons = []
        missing = [p.name for p in STATIC_PODS if p.name not in self.manifests]
        if missing:
            reasons.append(f"no static pod manifest for {', '.join(missing)}")
        if not self.api.ok:
            reasons.append(f"API server not ready ({self.api.detail})")
        if not self.etcd.ok:
            reasons.append(f"etcd not healthy ({self.etcd.detail})")
        return "; ".join(reasons) or "healthy"


@dataclass(frozen=True)
class MasterRenewal:
    """What renew did on one master (file names only: contents never leave this module)."""

    address: str
    hostname: str
    files: tuple[str, ...]
    backup: str
    seconds: float  # the whole master
    down_seconds: float  # manifests moved out -> API ready and etcd healthy again
    not_after: dt.datetime  # of the new API server certificate
    apiserver_sans: tuple[str, ...] = field(default=())

    def to_json(self) -> dict[str, object]:
        return {
            "address": self.address,
            "hostname": self.hostname,
            "files": list(self.files),
            "backup": self.backup,
            "seconds": round(self.seconds, 2),
            "down_seconds": round(self.down_seconds, 2),
            "not_after": self.not_after.isoformat(),
            "apiserver_sans": list(self.apiserver_sans),
        }


async def _present(conns: Remote, access: HostAccess, paths: Sequence[str]) -> list[str]:
    """Those of ``paths`` that exist on the host (one ``ls -d`` for all of them)."""
    result = await conns.run(access, ["ls", "-1", "-d", "--", *paths], check=False)
    listed = set(result.stdout.splitlines())
    return [path for path in paths if path in listed]


async def check_health(conns: Remote, cluster: Cluster, address: str) -> MasterHealth:
    access = host_access(cluster, address)
    api, etcd, present = await gather_all(
        collect(conns, access, api_ready),
        collect(conns, access, etcd_healthy),
        _present(conns, access, [p.manifest for p in STATIC_PODS]),
    )
    names = tuple(p.name for p in STATIC_PODS if p.manifest in present)
    return MasterHealth(address, api, etcd, names)


def refusal(health: Sequence[MasterHealth]) -> PlanError | None:
    """The error that stops renew before it changes anything, when a master is unhealthy:
    restarting another master's etcd could then lose the quorum."""
    bad = [h for h in health if not h.ok]
    if not bad:
        return None
    lines = "; ".join(f"{h.address}: {h.why()}" for h in bad)
    return PlanError(
        f"refusing to renew: not every master is healthy ({lines}). Restarting a master while "
        "another is down could take the API or the etcd quorum away",
        hint="bring the cluster back to health first (`sealer apply`), then renew",
    )


async def read_cluster_ca(conns: Remote, cluster: Cluster) -> ClusterCA:
    """The CAs of master0, after checking that every master holds the same CA certificates."""
    spec = cluster.spec
    master0 = host_access(cluster, spec.master0)
    try:
        ca = await read_ca(conns, master0)
    except MissingCAFile as missing:
        raise PlanError(
            f"{master0.label}: {missing.path} is missing; renew never makes a new CA (every "
            "certificate in the cluster would stop being trusted)"
        ) from None
    for address in spec.master_addresses[1:]:
        access = host_access(cluster, address)
        for name, base in CA_FILES.items():
            data = await conns.read_file(access, f"{KUBERNETES_DIR}/{base}.crt")
            if data is None or _certificate(data) != ca.by_name(name).cert:
                raise PlanError(
                    f"{address}: {KUBERNETES_DIR}/{base}.crt is not the {name} of "
                    f"{spec.master0}: the masters do not share one CA, renew would break trust",
                    hint="compare the files with `sealer certs check -f FILE --output json`",
                )
    return ca


def _certificate(data: bytes) -> x509.Certificate | None:
    try:
        return x509.load_pem_x509_certificate(data)
    except ValueError:
        return None


async def _wait(
    what: str,
    address: str,
    probe: Callable[[], Awaitable[bool]],
    timeout: float,
    interval: float,
) -> None:
    if not await poll_until(probe, timeout=timeout, interval=interval):
        raise StepError("certs-renew", address, f"{what} after {timeout:.0f}s")


async def _restart_static_pods(
    conns: Remote,
    cluster: Cluster,
    address: str,
    staging: str,
    options: RenewOptions,
    emit: Callable[[str, str], None],
) -> None:
    """Move the manifests out until the kubelet stopped their pods, then back; wait ready."""
    access = host_access(cluster, address)
    pods: list[StaticPod] = list(STATIC_PODS)
    ports = {port for pod in pods for port in pod.ports}
    await conns.run(access, ["mkdir", "-p", "-m", "0700", "--", staging])
    moved: list[StaticPod] = []
    try:
        for pod in pods:
            await conns.run(access, ["mv", "-f", "--", pod.manifest, f"{staging}/{pod.name}.yaml"])
            moved.append(pod)
        emit(
            "stopping", f"manifests moved to {staging}; waiting for ports {sorted(ports)} to close"
        )

        async def stopped() -> bool:
            return not (await collect(conns, access, listening_ports)) & ports

        await _wait(
            "the kubelet did not stop the control-plane pods",
            address,
            stopped,
            options.stop_timeout,
            options.poll_interval / 2,
        )
    finally:
        for pod in moved:
            await conns.run(access, ["mv", "-f", "--", f"{staging}/{pod.name}.yaml", pod.manifest])
    emit("starting", "manifests back; waiting for /readyz and etcd health")

    async def ready() -> bool:
        listening: frozenset[int] = await collect(conns, access, listening_ports)
        if ports - listening:
            return False
        return (await collect(conns, access, etcd_healthy)).ok and (
            await collect(conns, access, api_ready)
        ).ok

    await _wait(
        "the API server or etcd did not become healthy again",
        address,
        ready,
        options.ready_timeout,
        options.poll_interval,
    )
    await conns.run(access, ["rmdir", "--", staging], check=False)


async def renew_master(
    conns: Remote,
    cluster: Cluster,
    ca: ClusterCA,
    address: str,
    options: RenewOptions,
    stamp: str,
    events: EventSink,
    resolved: Mapping[str, str],
) -> MasterRenewal:
    started = time.monotonic()

    def emit(phase: str, message: str) -> None:
        events(RenewEvent(address, phase, message, time.monotonic() - started))

    access = host_access(cluster, address)
    name = await collect(conns, access, hostname)
    super_admin = await _present(conns, access, [f"{KUBERNETES_DIR}/super-admin.conf"])
    files: dict[str, PkiFile] = renew_master_leaves(
        ca,
        cluster,
        address,
        name,
        extra_sans=options.extra_sans,
        resolved=resolved,
        init_master=bool(super_admin),
    )
    backup = f"{CERTS_BACKUP_ROOT}/sealer-certs-renew-{stamp}"
    existing = await _present(conns, access, [f"{KUBERNETES_DIR}/{p}" for p in sorted(files)])
    await conns.run(access, ["mkdir", "-p", "-m", "0700", "--", CERTS_BACKUP_ROOT, backup])
    if existing:
        relative = [path.removeprefix(f"{KUBERNETES_DIR}/") for path in existing]
        await conns.run(
            access, ["cp", "-a", "--parents", "-t", backup, "--", *relative], cwd=KUBERNETES_DIR
        )
    emit("backup", f"{len(existing)} files kept in {backup}")
    target = Target(
        cluster=cluster, access={address: access}, live=ClusterState(hosts={}), conns=conns
    )
    written = await upload_kubernetes_files(target, address, files)
    if await _present(conns, access, [USER_KUBECONFIG]):
        await conns.run(access, ["install", "-m", "0600", "--", ADMIN_CONF, USER_KUBECONFIG])
    emit("upload", f"{written} files written")
    down_from = time.monotonic()
    await _restart_static_pods(conns, cluster, address, f"{backup}/manifests", options, emit)
    down = time.monotonic() - down_from
    cert = x509.load_pem_x509_certificate(files["pki/apiserver.crt"].content)
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    names = [*sans.get_values_for_type(x509.DNSName)]
    names += [str(ip) for ip in sans.get_values_for_type(x509.IPAddress)]
    emit("ready", f"healthy again after {down:.1f}s")
    return MasterRenewal(
        address=address,
        hostname=name,
        files=tuple(sorted(files)),
        backup=backup,
        seconds=time.monotonic() - started,
        down_seconds=down,
        not_after=cert.not_valid_after_utc,
        apiserver_sans=tuple(names),
    )
