"""The relay on a lab: real sshd hosts, real files, real servers, real nftables. One small lab
(1 master, 2 nodes, the emulated package) for the module; the tests run in order.

Only the distribute steps run (the plan's copies, built and executed as apply builds and
executes them): distribution is what is under test; installing and joining are the e2e tests'.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from ruamel.yaml import YAML

import sealer_lab
from sealer.connect import Connections, PoolOptions
from sealer.engine import Executor, Graph, RunContext, RunSummary
from sealer.layout import PACKAGE_DIR
from sealer.plan.kinds import StepKind
from sealer.reconcile import Planned, plan, target_for
from sealer.spec import load_clusterfile
from sealer.steps.graph import executable
from tests.conftest import kubernetes_lab
from tests.waiting import wait_for

pytestmark = [pytest.mark.lab, pytest.mark.slow]

VERSION = "v1.29.3"
TABLE = "relaytest"
#: A line of the relay program's own text: how its processes are found on a host.
PROGRAM_MARK = "sealer's relay"


class Relay:
    def __init__(self, lab: sealer_lab.Lab) -> None:
        self.lab = lab
        assert lab.clusterfile is not None
        self.file = lab.clusterfile
        yaml = YAML()
        data = yaml.load(self.file.read_text())
        data["spec"]["package"] = {
            "source": data["spec"]["package"]["source"],
            "distribution": "relay",
            "fanout": 2,
        }
        with self.file.open("w") as handle:
            yaml.dump(data, handle)
        cluster = load_clusterfile(self.file).cluster
        self.package = Path(cluster.spec.package.source)
        self.sha256 = hashlib.sha256(self.package.read_bytes()).hexdigest()
        self.remote = f"{PACKAGE_DIR}/{self.package.name}"

    @property
    def addresses(self) -> list[str]:
        return [h.address for h in self.lab.hosts]

    def on(self, host: str, argv: list[str], check: bool = True) -> str:
        return self.lab.run(host, argv, check=check).stdout

    def sha_on(self, host: str) -> str | None:
        out = self.on(host, ["sha256sum", self.remote], check=False)
        return out.split()[0] if out else None

    def servers_on(self, host: str) -> str:
        """The relay programs running on a host (its own PID namespace)."""
        return self.on(host, ["pgrep", "-af", PROGRAM_MARK], check=False).strip()

    def flip_byte(self, host: str, offset: int = 4096) -> None:
        """Flip one bit of the host's copy of the package, in place."""
        script = (
            "import sys; f = open(sys.argv[1], 'r+b'); f.seek(int(sys.argv[2])); "
            "b = f.read(1); f.seek(int(sys.argv[2])); f.write(bytes([b[0] ^ 1])); f.close()"
        )
        self.on(host, ["python3", "-c", script, self.remote, str(offset)])

    def distribute(self, between: Callable[[], None] | None = None) -> tuple[Planned, RunSummary]:
        """Plan, call ``between``, then run exactly the plan's distribute steps."""

        async def main() -> tuple[Planned, RunSummary]:
            cluster = load_clusterfile(self.file).cluster
            options = PoolOptions(known_hosts=(self.lab.known_hosts,))
            async with Connections(options) as conns:
                planned = await plan(conns, cluster)
                if between is not None:
                    between()
                target = target_for(conns, planned, None)
                graph = Graph()
                for step in planned.plan.steps:
                    if step.kind is StepKind.DISTRIBUTE:
                        graph.add(executable(step, target), after=step.after)
                graph.check()
                return planned, await Executor(graph, RunContext()).run()

        return asyncio.run(main())

    def pending_distribute(self) -> list[str]:
        async def main() -> list[str]:
            cluster = load_clusterfile(self.file).cluster
            options = PoolOptions(known_hosts=(self.lab.known_hosts,))
            async with Connections(options) as conns:
                planned = await plan(conns, cluster)
            return [s.id for s in planned.plan.steps if s.kind is StepKind.DISTRIBUTE]

        return asyncio.run(main())


@pytest.fixture(scope="module")
def relay(lab_session_id: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Relay]:
    workdir = tmp_path_factory.mktemp("relay")
    with kubernetes_lab(lab_session_id, "relay", workdir, 1, 2, version=VERSION) as lab:
        yield Relay(lab)


def reasons(summary: RunSummary) -> dict[str, str]:
    return {r.host or "": r.reason for r in summary.results}


def test_hosts_blocked_from_each_other_get_the_package_directly(relay: Relay) -> None:
    subnet = relay.lab.state.subnet  # e.g. 10.200.0.0/24; the workstation is .1
    workstation = subnet.split("/")[0].rsplit(".", 1)[0] + ".1"
    for host in relay.addresses:  # every host drops what other hosts send it
        relay.on(host, ["nft", "add", "table", "inet", TABLE])
        relay.on(
            host,
            ["nft", "add", "chain", "inet", TABLE, "input",
             "{ type filter hook input priority 0 ; policy accept ; }"],
        )  # fmt: skip
        relay.on(
            host,
            ["nft", "add", "rule", "inet", TABLE, "input", "ip", "saddr", subnet,
             "ip", "saddr", "!=", workstation, "drop"],
        )  # fmt: skip
    try:
        planned, summary = relay.distribute()

        m0, *nodes = relay.addresses
        by_host = {s.host: s for s in planned.plan.steps if s.kind is StepKind.DISTRIBUTE}
        assert by_host[m0].why.endswith("copy from the workstation")
        assert all("(relay)" in by_host[n].why for n in nodes)  # the plan meant to relay
        assert summary.succeeded, summary.errors()
        for node in nodes:  # each found out, and got the workstation's copy
            reason = reasons(summary)[node]
            source = by_host[node].payload.source  # type: ignore[attr-defined]
            assert f"copied from the workstation: {node} cannot reach {source}" in reason
        for host in relay.addresses:
            assert relay.sha_on(host) == relay.sha256
        for host in relay.addresses:  # the servers nobody reached were stopped
            wait_for(
                lambda h=host: f"no relay program left on {h}: {relay.servers_on(h)}",  # type: ignore[misc]
                lambda h=host: relay.servers_on(h) == "",  # type: ignore[misc]
            )
    finally:
        for host in relay.addresses:
            relay.on(host, ["nft", "delete", "table", "inet", TABLE], check=False)
    assert relay.pending_distribute() == []


def test_a_byte_flipped_on_a_serving_host_is_not_served_on_and_the_run_converges(
    relay: Relay,
) -> None:
    m0, *nodes = relay.addresses
    for node in nodes:  # the nodes lose their copy: m0, which holds one, is to serve them
        relay.on(node, ["rm", "-f", relay.remote])

    # the byte flips after the plan counted on m0's verified copy, before m0 serves it
    planned, summary = relay.distribute(between=lambda: relay.flip_byte(m0))

    steps = {s.host: s for s in planned.plan.steps if s.kind is StepKind.DISTRIBUTE}
    assert m0 not in steps  # m0 held a verified copy when the plan was made
    assert [steps[n].payload.source for n in nodes] == [m0, m0]  # type: ignore[attr-defined]
    assert relay.sha_on(m0) != relay.sha256
    assert summary.succeeded, summary.errors()
    for node in nodes:  # detected and not served on: they got the workstation's copy
        reason = reasons(summary)[node]
        assert f"copied from the workstation: {m0}'s copy failed its sha256 check" in reason
        assert "not served on" in reason
        assert relay.sha_on(node) == relay.sha256
    assert relay.servers_on(m0) == ""  # no server was left listening

    # the run converges: the next plan copies m0's package from a node that holds it
    planned, summary = relay.distribute()
    (step,) = [s for s in planned.plan.steps if s.kind is StepKind.DISTRIBUTE]
    assert step.host == m0 and step.payload.source == nodes[0]  # type: ignore[attr-defined]
    assert summary.succeeded, summary.errors()
    assert f"copied from {nodes[0]} (relay)" in reasons(summary)[m0]
    assert relay.sha_on(m0) == relay.sha256
    assert relay.pending_distribute() == []
