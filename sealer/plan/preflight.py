"""Preflight: every host problem found at once, before anything changes (pure).

The facts are read with the host's other facts in one command per host
(:mod:`sealer.facts.preflight`); this module judges them against the Clusterfile and the live
state. Each problem is a :class:`Finding` (error or warning, the check's name, the hosts, the
fix). What sealer can fix safely (swap, kernel modules, sysctls) is a warning that becomes a
``prepare`` step (:class:`Preparation`); everything else a person must fix. ``apply`` refuses
on any error before it changes a host; ``diff`` reports them with the plan.

Only hosts that will *need* something are checked for it: a port is in use only on a host that
has not joined yet (a running master serves 6443 itself), so re-applying an unchanged file on a
live cluster reports no error.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from sealer.errors import PlanError
from sealer.facts.preflight import CHECKED_SYSCTLS, REQUIRED_MODULES, HostPreflight
from sealer.layout import API_SERVER_PORT
from sealer.offline_package import LocalPackage
from sealer.plan.state import ClusterState, LiveHost
from sealer.spec.model import PREFLIGHT_CHECKS, Cluster, parse_version

__all__ = [
    "CLOCK_SKEW_BOUND",
    "ETCD_DISK_WANTED",
    "Finding",
    "Preflight",
    "PreflightFailed",
    "Preparation",
    "run_preflight",
]

Severity = Literal["error", "warning"]

#: A host clock further than this from the workstation's is an error (seconds): certificates
#: issued now are not yet valid on a host behind, and etcd's leases and kubelet's leases drift.
CLOCK_SKEW_BOUND = 30.0
#: Free space wanted where etcd writes (bytes): etcd's default backend quota.
ETCD_DISK_WANTED = 2 * 1024**3
MASTER_PORTS = (API_SERVER_PORT, 2379, 2380, 10250, 10257, 10259)
NODE_PORTS = (10250, API_SERVER_PORT)  # the kubelet, and the VIP's port of the load balancer
SUPPORTED_OS = frozenset(
    ("debian", "ubuntu", "rhel", "centos", "rocky", "almalinux", "fedora", "ol", "amzn", "suse")
)


@dataclass(frozen=True)
class Finding:
    """One problem: which check found it on which hosts, what it is, how to fix it."""

    check: str
    hosts: tuple[str, ...]
    severity: Severity
    problem: str
    fix: str

    def to_dict(self) -> dict[str, object]:
        return {
            "check": self.check,
            "hosts": list(self.hosts),
            "severity": self.severity,
            "problem": self.problem,
            "fix": self.fix,
        }


@dataclass(frozen=True)
class Preparation:
    """What the ``prepare`` step changes on one host: only what a check found wrong."""

    swap_off: bool = False
    modules: tuple[str, ...] = ()  # to load now and at boot (/etc/modules-load.d/)
    sysctls: tuple[str, ...] = ()  # to set to 1 now and at boot (/etc/sysctl.d/)

    @property
    def needed(self) -> bool:
        return self.swap_off or bool(self.modules) or bool(self.sysctls)

    def reason(self) -> str:
        parts = []
        if self.swap_off:
            parts.append("swap is on")
        if self.modules:
            parts.append(f"kernel module(s) {', '.join(self.modules)} not loaded")
        if self.sysctls:
            parts.append(f"{', '.join(self.sysctls)} not 1")
        return "; ".join(parts)


@dataclass(frozen=True)
class Preflight:
    findings: tuple[Finding, ...] = ()
    preparations: Mapping[str, Preparation] = field(default_factory=dict)
    ignored: tuple[str, ...] = ()

    @property
    def errors(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity == "error")


class PreflightFailed(PlanError):
    """Preflight found errors on hosts: nothing was changed (the findings were reported)."""

    def __init__(self, preflight: Preflight) -> None:
        errors = preflight.errors
        hosts = sorted({h for f in errors for h in f.hosts})
        super().__init__(
            f"preflight found {len(errors)} error{'s' if len(errors) != 1 else ''} on "
            f"{', '.join(hosts)} (listed above); no host was changed",
            hint="fix them, or skip a check with --ignore-preflight NAME or spec.preflight.ignore",
        )
        self.preflight = preflight


def _fresh(host: LiveHost) -> bool:
    """The host never held a cluster: nothing of Kubernetes listens on it yet."""
    return host.role is None and not host.cluster_state and not host.kubelet_configured


def _gib(size: int) -> str:
    return f"{size / 1024**3:.1f} GiB"


class _Checks:
    def __init__(self, cluster: Cluster, live: ClusterState, package: LocalPackage) -> None:
        self.cluster = cluster
        self.live = live
        self.package = package
        self.findings: list[Finding] = []
        self.swap: set[str] = set()
        self.modules: dict[str, tuple[str, ...]] = {}
        self.sysctls: dict[str, tuple[str, ...]] = {}

    def add(
        self, check: str, hosts: Iterable[str], severity: Severity, problem: str, fix: str
    ) -> None:
        self.findings.append(Finding(check, tuple(hosts), severity, problem, fix))

    def host(self, address: str, host: LiveHost, facts: HostPreflight) -> None:
        spec = self.cluster.spec
        role = spec.role_of(address)
        if facts.swaps:
            self.swap.add(address)
            self.add(
                "swap",
                [address],
                "warning",
                f"swap is on ({', '.join(facts.swaps)}); the kubelet refuses to start with swap",
                "the prepare step runs `swapoff -a` and comments swap out of /etc/fstab",
            )
        missing = tuple(m for m in REQUIRED_MODULES if m not in facts.modules)
        if missing:
            self.modules[address] = missing
            self.add(
                "kernel-modules",
                [address],
                "warning",
                f"kernel module(s) {', '.join(missing)} not loaded",
                "the prepare step runs modprobe and lists them in /etc/modules-load.d/sealer.conf",
            )
        wrong = tuple(k for k in CHECKED_SYSCTLS if facts.sysctl(k) != "1")
        if wrong:
            self.sysctls[address] = wrong
            said = ", ".join(f"{k}={facts.sysctl(k) or 'missing'}" for k in wrong)
            self.add(
                "sysctls",
                [address],
                "warning",
                f"{said} (kubeadm needs 1)",
                "the prepare step sets them in /etc/sysctl.d/99-sealer.conf and now",
            )
        if _fresh(host):
            wanted = MASTER_PORTS if role == "master" else NODE_PORTS
            ports = dict(facts.listening)
            for port in wanted:
                if port in ports:
                    who = f" by {ports[port]}" if ports[port] else ""
                    self.add(
                        "ports",
                        [address],
                        "error",
                        f"port {port} is in use{who}; this {role} needs it",
                        f"stop what listens on port {port}, or choose another host",
                    )
        skew = abs(facts.clock_skew) - facts.clock_uncertainty
        if skew > CLOCK_SKEW_BOUND:
            direction = "ahead of" if facts.clock_skew > 0 else "behind"
            self.add(
                "clock",
                [address],
                "error",
                f"the clock is {abs(facts.clock_skew):.0f}s {direction} this workstation's "
                f"(more than {CLOCK_SKEW_BOUND:.0f}s): certificates and leases go wrong",
                "synchronise the clocks (chrony or systemd-timesyncd) on the host and here",
            )
        if host.package_sha256 != self.package.sha256:
            needed = 3 * self.package.size
            if facts.disk.package < needed:
                self.add(
                    "disk",
                    [address],
                    "error",
                    f"{_gib(facts.disk.package)} free under /var/lib; the package needs "
                    f"{_gib(needed)} (the file and its unpacked copy)",
                    "free space under /var/lib",
                )
        if role == "master" and facts.disk.etcd < ETCD_DISK_WANTED:
            self.add(
                "disk",
                [address],
                "warning",
                f"{_gib(facts.disk.etcd)} free for /var/lib/etcd; etcd's quota is "
                f"{_gib(ETCD_DISK_WANTED)}",
                "free space (or mount a disk) for /var/lib/etcd",
            )
        minor = parse_version(spec.version)[:2]
        if facts.cgroup_version == 1 and minor >= (1, 31):
            severity: Severity = "error" if minor >= (1, 35) else "warning"
            self.add(
                "cgroup",
                [address],
                severity,
                f"cgroup v1: Kubernetes {spec.version} "
                + ("refuses it" if severity == "error" else "keeps it in maintenance only"),
                "boot with cgroup v2 (systemd.unified_cgroup_hierarchy=1)",
            )
        self.runtime(address, host, facts)
        self.commands(address, role, facts)
        self.platform(address, host)

    def runtime(self, address: str, host: LiveHost, facts: HostPreflight) -> None:
        if host.package_sha256 is not None or not _fresh(host):
            return  # sealer's package is there: the binaries are its own
        for name, path in facts.runtimes:
            if name == "kubelet":
                self.add(
                    "runtime",
                    [address],
                    "error",
                    f"a kubelet sealer did not install is at {path}",
                    "remove that kubelet (and its unit), or install on a clean host",
                )
            else:
                self.add(
                    "runtime",
                    [address],
                    "warning",
                    f"another container runtime is installed ({name} at {path})",
                    f"remove {name} unless you mean it to run beside the cluster's runtime",
                )

    def commands(self, address: str, role: str, facts: HostPreflight) -> None:
        wanted = ["tar", "sha256sum"]
        if role == "node":
            wanted.append("python3")  # the load balancer's daemon
            backend = self.cluster.spec.load_balancer.backend
            if backend == "ipvs":
                wanted.append("ipvsadm")
            elif backend == "nftables" or facts.command("ipvsadm") is None:
                wanted.append("nft")
        missing = [c for c in wanted if facts.command(c) is None]
        if missing:
            self.add(
                "commands",
                [address],
                "error",
                f"{', '.join(missing)} not found on the PATH; sealer's steps run them",
                f"install {', '.join(missing)} with the distribution's package manager",
            )
        if role == "node" and facts.command("conntrack") is None:
            self.add(
                "commands",
                [address],
                "warning",
                "conntrack not found: connections to a removed master are not cut at once",
                "install conntrack",
            )

    def platform(self, address: str, host: LiveHost) -> None:
        if host.arch is not None and host.arch != self.package.arch:
            self.add(
                "arch",
                [address],
                "error",
                f"the host is {host.arch}, the package is for {self.package.arch}",
                f"use a package built for {host.arch} (spec.package)",
            )
        osr = host.os
        if osr is not None and not ({osr.id, *osr.id_like} & SUPPORTED_OS):
            self.add(
                "os",
                [address],
                "warning",
                f"{osr.pretty_name} is not an OS the package is made for",
                "use a Debian, Ubuntu or RHEL-family host, or ignore this check",
            )

    def duplicates(self, check: str, values: Mapping[str, str | None], what: str, fix: str) -> None:
        by_value: dict[str, list[str]] = defaultdict(list)
        for address, value in values.items():
            if value:
                by_value[value.lower()].append(address)
        for value, addresses in by_value.items():
            if len(addresses) > 1:
                self.add(
                    check,
                    addresses,
                    "error",
                    f"{len(addresses)} hosts have the same {what} {value!r}",
                    fix,
                )


def run_preflight(
    cluster: Cluster, live: ClusterState, package: LocalPackage, ignore: Iterable[str] = ()
) -> Preflight:
    """Every check on every reachable host of the file whose facts were read, minus the
    checks in ``ignore`` (and ``spec.preflight.ignore``; ``all`` ignores every check)."""
    skipped = set(ignore) | set(cluster.spec.preflight.ignore)
    if "all" in skipped:
        skipped = set(PREFLIGHT_CHECKS)
    checks = _Checks(cluster, live, package)
    read = {
        a: h
        for a in cluster.spec.all_addresses
        if (h := live.hosts.get(a)) is not None and h.reachable and h.preflight is not None
    }
    for address, host in read.items():
        assert host.preflight is not None
        checks.host(address, host, host.preflight)
    checks.duplicates(
        "hostname",
        {a: h.hostname for a, h in read.items()},
        "hostname",
        "give each host its own name (`hostnamectl set-hostname NAME`): it is the Node's name",
    )
    checks.duplicates(
        "machine-id",
        {a: h.preflight.machine_id if h.preflight else None for a, h in read.items()},
        "/etc/machine-id",
        "a cloned machine: `rm /etc/machine-id && systemd-machine-id-setup` on all but one",
    )
    findings = tuple(f for f in checks.findings if f.check not in skipped)
    preparations: dict[str, Preparation] = {}
    for address in read:
        prep = Preparation(
            swap_off=address in checks.swap and "swap" not in skipped,
            modules=checks.modules.get(address, ()) if "kernel-modules" not in skipped else (),
            sysctls=checks.sysctls.get(address, ()) if "sysctls" not in skipped else (),
        )
        if prep.needed:
            preparations[address] = prep
    return Preflight(findings, preparations, tuple(sorted(skipped)))
