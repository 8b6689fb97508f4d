"""What the upgrade of one host does, shared by ``upgrade-master`` and ``upgrade-node``.

The binaries come from the staged package (:mod:`sealer.steps.stage`), each installed over the
one on the host's PATH (``install`` to ``NAME.new``, then ``mv``: a running kubelet keeps its
old file until it is restarted). Cluster-wide commands (drain, uncordon, the Node's state) run
on a master other than the one being upgraded when there is one, whose API server does not
restart under them.

Once a host is cordoned, every failure says the host is left cordoned and why; the Node keeps
:data:`~sealer.facts.cluster.UPGRADING_ANNOTATION`, so the next run finds it and finishes it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from sealer.aio import poll_until
from sealer.connect.command import builtin_argv
from sealer.errors import SealerError, StepError
from sealer.facts.base import collect
from sealer.facts.cluster import UPGRADING_ANNOTATION, NodeInfo, parse_nodes
from sealer.facts.health import Health, api_ready, etcd_healthy
from sealer.facts.upgrade import parse_manifest_version
from sealer.layout import APISERVER_MANIFEST, STAGED_DIR, UNPACKED_DIR
from sealer.plan.payloads import UpgradeSettings
from sealer.steps.api_master import kubectl, run_repeatable_kubectl
from sealer.steps.stage import staged_kube
from sealer.steps.target import Target

__all__ = [
    "GATE_INTERVAL",
    "GATE_TIMEOUT",
    "KUBEADM_UPGRADE_TIMEOUT",
    "HostUpgrader",
]

#: How long a host may take to be Ready at the new version, and a master's API server and
#: etcd to be healthy, after its kubelet restarted; and the pause between two looks.
GATE_TIMEOUT = 300.0
GATE_INTERVAL = 2.0
#: ``kubeadm upgrade apply|node`` (new manifests, the API server restarting) gets this long.
KUBEADM_UPGRADE_TIMEOUT = 900.0


@dataclass(frozen=True)
class HostUpgrader:
    """One host's upgrade: ``step`` and ``host`` name it in errors, ``node`` is its Node."""

    target: Target
    step: str
    host: str
    node: str
    settings: UpgradeSettings

    @property
    def version(self) -> str:
        return self.settings.version

    def _helper(self) -> str:
        """The master whose kubectl runs the cluster-wide commands: another one if any."""
        t = self.target
        masters = t.cluster.spec.master_addresses
        others = [m for m in masters if m != self.host]
        return others[0] if others else (t.live.api_host or masters[0])

    async def _kubectl(self, *args: str, timeout: float | None = None) -> str:
        t = self.target
        access = t.access[self._helper()]
        return (await run_repeatable_kubectl(t, access, kubectl(*args), timeout=timeout)).stdout

    async def node_info(self) -> NodeInfo | None:
        nodes = parse_nodes(await self._kubectl("get", "nodes", "-o", "json"))
        return next((n for n in nodes if n.name == self.node), None)

    async def run(self, argv: Sequence[str], *, timeout: float | None = None) -> str:
        t = self.target
        return (await t.conns.run(t.access[self.host], argv, timeout=timeout)).stdout

    async def binary_version(self) -> str | None:
        t = self.target
        result = await t.conns.run(
            t.access[self.host], ["kubeadm", "version", "-o", "short"], check=False
        )
        return result.stdout.strip() or None if result.ok else None

    async def apiserver_version(self) -> str | None:
        t = self.target
        return parse_manifest_version(
            (await t.conns.read_file(t.access[self.host], APISERVER_MANIFEST) or b"").decode()
        )

    async def install(self, names: Sequence[str]) -> None:
        """The staged ``names`` over the ones on the host's PATH."""
        source = staged_kube(self.version)
        for name in names:
            found = (await self.run(builtin_argv("command", "-v", name))).strip()
            if not found.startswith("/"):
                raise StepError(self.step, self.host, f"{name} is not on the host's PATH")
            await self.run(["install", "-m", "0755", f"{source}/bin/{name}", f"{found}.new"])
            await self.run(["mv", "-f", "--", f"{found}.new", found])

    async def kubelet(
        self, *, before_kubelet: Callable[[], Awaitable[list[str]]] | None = None
    ) -> list[str]:
        """Cordon (marked), drain, ``before_kubelet`` (a worker's kubeadm), kubelet and kubectl
        installed, kubelet restarted, Ready at the version, uncordoned (mark removed). What was
        done, or nothing when the Node already runs the version and sealer did not leave it
        cordoned."""
        info = await self.node_info()
        if info is None:
            raise StepError(self.step, self.host, f"node {self.node} is not in the cluster")
        if info.kubelet_version == self.version and not info.upgrading_to:
            return []
        mark = f"{UPGRADING_ANNOTATION}={self.version}"
        await self._kubectl("annotate", "--overwrite", "node", self.node, mark)
        await self._kubectl("cordon", self.node)
        try:
            return await self._while_cordoned(before_kubelet)
        except SealerError as exc:
            raise StepError(
                self.step,
                self.host,
                f"node {self.node} is left cordoned ({mark}): {exc}. Nothing further was "
                "upgraded; once the cause is fixed, `sealer apply` finishes this host",
            ) from None

    async def _while_cordoned(
        self, before_kubelet: Callable[[], Awaitable[list[str]]] | None
    ) -> list[str]:
        done = ["cordoned"]
        if not self.settings.skip_drain:
            seconds = self.settings.drain_seconds
            await self._kubectl(
                "drain",
                self.node,
                "--ignore-daemonsets",
                "--delete-emptydir-data",
                f"--timeout={seconds}s",
                timeout=seconds + 60.0,
            )
            done.append("drained")
        if before_kubelet is not None:
            done += await before_kubelet()
        await self.install(("kubelet", "kubectl"))
        await self.run(["systemctl", "restart", "kubelet"])
        done.append(f"kubelet {self.version} restarted")
        await self._gate(
            f"node {self.node} Ready at {self.version}",
            self._ready_at_version,
        )
        await self._kubectl("uncordon", self.node)
        await self._kubectl("annotate", "node", self.node, f"{UPGRADING_ANNOTATION}-")
        done.append("uncordoned")
        return done

    async def _ready_at_version(self) -> Health:
        info = await self.node_info()
        if info is None:
            return Health(False, "the Node is gone")
        if info.kubelet_version != self.version:
            return Health(False, f"its kubelet reports {info.kubelet_version}")
        return Health(bool(info.ready), "" if info.ready else "not Ready")

    async def _gate(self, what: str, probe: Callable[[], Awaitable[Health]]) -> None:
        last = await poll_until(
            probe, timeout=GATE_TIMEOUT, interval=GATE_INTERVAL, done=lambda h: h.ok
        )
        if not last.ok:
            raise StepError(
                self.step,
                self.host,
                f"waited {GATE_TIMEOUT:.0f} s for {what}; last: {last.detail or 'no answer'}",
            )

    async def master_gates(self) -> None:
        """The host's own API server ``/readyz`` and its etcd member healthy."""
        t = self.target
        access = t.access[self.host]
        await self._gate(
            f"the API server on {self.host} to be ready",
            lambda: collect(t.conns, access, api_ready),
        )
        await self._gate(
            f"the etcd member on {self.host} to be healthy",
            lambda: collect(t.conns, access, etcd_healthy),
        )

    async def adopt_package(self) -> None:
        """The staged tree becomes the host's unpacked package (what ``clean`` compares the
        installed binaries with)."""
        await self.run(["rm", "-rf", "--", UNPACKED_DIR])
        await self.run(["mv", "--", staged_kube(self.version), UNPACKED_DIR])
        await self.run(["rm", "-rf", "--", f"{STAGED_DIR}/{self.version}"])
        await self.run(["rmdir", "--ignore-fail-on-non-empty", "--", STAGED_DIR])
