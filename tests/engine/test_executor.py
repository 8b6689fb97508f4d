from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from sealer.engine import (
    Event,
    EventKind,
    Executor,
    Graph,
    RunContext,
    Status,
    execute,
)
from sealer.errors import CommandFailed, PlanError
from tests.engine.conftest import FakeStep, Journal


def _fail_with(exc: Exception) -> Callable[[], Awaitable[None]]:
    async def action() -> None:
        raise exc

    return action


async def test_independent_steps_overlap() -> None:
    # a and b each wait for the other to have started: only possible if they run at once.
    journal = Journal()
    a_started, b_started = asyncio.Event(), asyncio.Event()

    async def a() -> None:
        a_started.set()
        await asyncio.wait_for(b_started.wait(), 10)

    async def b() -> None:
        b_started.set()
        await asyncio.wait_for(a_started.wait(), 10)

    graph = Graph()
    graph.add(FakeStep("a", "h1", journal, a))
    graph.add(FakeStep("b", "h2", journal, b))
    summary = await execute(graph, RunContext())
    assert summary.succeeded
    assert journal.ids("start")[:2] == ["a@h1", "b@h2"]


async def test_concurrency_bound_of_steps() -> None:
    journal = Journal()
    running = 0
    peak = 0

    async def work() -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        for _ in range(5):
            await asyncio.sleep(0)
        running -= 1

    graph = Graph()
    for i in range(10):
        graph.add(FakeStep("s", f"h{i}", journal, work))
    summary = await execute(graph, RunContext(concurrency=3))
    assert summary.succeeded and peak == 3


async def test_dependency_order() -> None:
    journal = Journal()
    graph = Graph()
    init = graph.add(FakeStep("init-master", "m0", journal))
    joins = [graph.add(FakeStep("join-master", h, journal), after=[init]) for h in ("m1", "m2")]
    graph.add(FakeStep("join-node", "n1", journal), after=joins)
    graph.add(FakeStep("apply-cni", None, journal), after=[init])
    summary = await execute(graph, RunContext())
    starts, ends = journal.ids("start"), journal.ids("end")
    for before, after in [
        ("init-master@m0", "join-master@m1"),
        ("init-master@m0", "join-master@m2"),
        ("init-master@m0", "apply-cni"),
        ("join-master@m1", "join-node@n1"),
        ("join-master@m2", "join-node@n1"),
    ]:
        assert ends.index(before) < starts.index(after)
    assert [r.id for r in summary.results] == graph.order()
    assert summary.counts()["changed"] == 5


async def test_failure_skips_dependents_and_independent_branches_finish() -> None:
    journal = Journal()
    graph = Graph()
    failed = CommandFailed("10.0.0.5", ["kubeadm", "join", "x"], 1, "", "preflight failed\n")
    bad = graph.add(FakeStep("join-node", "10.0.0.5", journal, _fail_with(failed)))
    child = graph.add(FakeStep("label-node", "10.0.0.5", journal), after=[bad])
    graph.add(FakeStep("lb", "10.0.0.5", journal), after=[child])
    graph.add(FakeStep("join-node", "10.0.0.6", journal, changes=False))
    events: list[Event] = []
    summary = await execute(graph, RunContext(events=events.append))

    assert not summary.succeeded
    result = summary.result("join-node@10.0.0.5")
    assert result.status == Status.FAILED
    assert result.error is not None
    assert (result.error.host, result.error.argv, result.error.exit_status) == (
        "10.0.0.5",
        ("kubeadm", "join", "x"),
        1,
    )
    assert result.error.stderr == "preflight failed\n"
    for sid in ("label-node@10.0.0.5", "lb@10.0.0.5"):
        skipped = summary.result(sid)
        assert skipped.status == Status.SKIPPED
        assert skipped.reason == "join-node@10.0.0.5 failed"
    other = summary.result("join-node@10.0.0.6")
    assert (other.status, other.reason) == (Status.OK, "already in shape")
    assert "label-node@10.0.0.5" not in journal.ids("start")
    [error] = summary.errors()
    assert str(error).startswith("join-node on 10.0.0.5: 10.0.0.5: `kubeadm join x` exited")
    data = summary.to_dict()
    assert data["counts"] == {"ok": 1, "changed": 0, "failed": 1, "skipped": 2, "cancelled": 0}
    kinds = [(e.kind, e.step) for e in events]
    assert (EventKind.SKIPPED, "lb@10.0.0.5") in kinds
    assert (EventKind.FINISHED, "join-node@10.0.0.5") in kinds


async def test_a_bug_in_a_step_is_a_failure_marked_internal() -> None:
    graph = Graph()
    graph.add(FakeStep("broken", None, Journal(), _fail_with(KeyError("x"))))
    summary = await execute(graph, RunContext())
    error = summary.result("broken").error
    assert error is not None and error.internal and "KeyError" in error.traceback


async def test_cancellation_stops_running_steps_and_starts_nothing_new() -> None:
    journal = Journal()
    blocked = asyncio.Event()
    stopped: list[str] = []

    async def block() -> None:
        blocked.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            stopped.append("cleaned up")
            raise

    graph = Graph()
    slow = graph.add(FakeStep("slow", "h1", journal, block))
    graph.add(FakeStep("after-slow", "h1", journal), after=[slow])
    graph.add(FakeStep("quick", "h2", journal))
    events: list[Event] = []
    executor = Executor(graph, RunContext(events=events.append))
    task = asyncio.create_task(executor.run())
    await blocked.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    summary = executor.summary
    assert summary is not None and summary.interrupted == "cancelled"
    assert summary.result("slow@h1").status == Status.CANCELLED
    assert summary.result("after-slow@h1").status == Status.SKIPPED
    assert summary.result("after-slow@h1").reason == "not started: run cancelled"
    assert summary.result("quick@h2").status == Status.CHANGED
    assert stopped == ["cleaned up"]
    assert "after-slow@h1" not in journal.ids("start")
    assert (EventKind.CANCELLED, "slow@h1") in [(e.kind, e.step) for e in events]


async def test_deadline_interrupts_the_run() -> None:
    async def forever() -> None:
        await asyncio.Event().wait()

    graph = Graph()
    graph.add(FakeStep("hang", None, Journal(), forever))
    summary = await execute(graph, RunContext(deadline=RunContext.deadline_in(0.05)))
    assert summary.interrupted == "deadline"
    assert summary.result("hang").status == Status.CANCELLED
    assert summary.result("hang").reason == "interrupted: deadline exceeded"


def test_cycle_and_unknown_dependency_are_plan_errors() -> None:
    journal = Journal()
    graph = Graph()
    a = graph.add(FakeStep("a", None, journal))
    b = graph.add(FakeStep("b", None, journal), after=[a])
    graph.order_after(a, b)
    with pytest.raises(PlanError, match=r"cycle: (a -> b -> a|b -> a -> b)"):
        graph.order()
    other = Graph()
    other.add(FakeStep("c", None, journal), after=["missing@h"])
    with pytest.raises(PlanError, match="c depends on missing@h, which is not in the plan"):
        other.check()
    with pytest.raises(PlanError, match="planned twice"):
        other.add(FakeStep("c", None, journal))


async def test_cycle_refused_before_anything_runs() -> None:
    journal = Journal()
    graph = Graph()
    a = graph.add(FakeStep("a", None, journal))
    graph.order_after(a, a)
    with pytest.raises(PlanError):
        await execute(graph, RunContext())
    assert journal.entries == []


def test_plan_lines_and_layers() -> None:
    journal = Journal()
    graph = Graph()
    assert graph.plan_lines() == ["nothing to do: every host is in shape"]
    init = graph.add(FakeStep("init-master", "m0", journal))
    graph.add(FakeStep("join-node", "n2", journal), after=[init])
    graph.add(FakeStep("join-node", "n1", journal), after=[init])
    assert graph.plan_lines() == [
        "1. init-master@m0",
        "2. join-node@n1  (after init-master@m0)",
        "3. join-node@n2  (after init-master@m0)",
    ]
    assert graph.layers() == [["init-master@m0"], ["join-node@n1", "join-node@n2"]]
    assert "join-node@n1" in graph and len(graph) == 3
