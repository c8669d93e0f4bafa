"""Scheduler with scripted attempts: ordering, limits, retries, blocking, cancel, pause."""

from __future__ import annotations

import asyncio

import pytest

from maestro_tui.domain import events as ev
from maestro_tui.domain.plan import Plan, Task, parse_plan
from maestro_tui.domain.state import TaskStatus, fold
from maestro_tui.engine.bus import EventBus
from maestro_tui.engine.scheduler import Outcome, RetryPolicy, Scheduler


def make_plan(spec: dict[str, list[str]]) -> Plan:
    return parse_plan(
        {"tasks": [{"id": k, "prompt": f"do {k}", "depends_on": v} for k, v in spec.items()]}
    )


def recording_bus() -> tuple[EventBus, list[ev.Event]]:
    bus = EventBus("r1")
    log: list[ev.Event] = []
    bus.subscribe(log.append)
    return bus, log


async def test_dependencies_run_in_order_within_the_limit() -> None:
    plan = make_plan({"a": [], "b": [], "c": ["a"], "d": ["a", "b"], "e": ["c", "d"]})
    bus, log = recording_bus()
    running, peak, order = 0, 0, []

    async def attempt(task: Task, n: int) -> Outcome:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0)
        order.append(task.id)
        running -= 1
        return Outcome.SATISFIED

    result = await Scheduler(bus, plan, attempt, max_agents=2).run()
    assert set(result.values()) == {Outcome.SATISFIED}
    assert peak <= 2
    for task in plan.tasks:
        for dep in task.depends_on:
            assert order.index(dep) < order.index(task.id)


async def test_critical_path_goes_first() -> None:
    # 'long' heads a chain of three; 'short' has nothing behind it.
    plan = make_plan({"short": [], "long": [], "l2": ["long"], "l3": ["l2"]})
    bus, log = recording_bus()
    started = []

    async def attempt(task: Task, n: int) -> Outcome:
        started.append(task.id)
        return Outcome.SATISFIED

    await Scheduler(bus, plan, attempt, max_agents=1).run()
    assert started[0] == "long"


async def test_retry_with_backoff_then_fail_blocks_dependents() -> None:
    plan = make_plan({"a": [], "b": ["a"], "c": ["b"], "x": []})
    bus, log = recording_bus()
    calls = {"a": 0}

    async def attempt(task: Task, n: int) -> Outcome:
        if task.id == "a":
            calls["a"] += 1
            raise RuntimeError("tests exploded")
        return Outcome.SATISFIED

    policy = RetryPolicy(retries=2, backoff_s=0.001)
    result = await Scheduler(bus, plan, attempt, policy=policy).run()
    assert calls["a"] == 3
    assert result["a"] is Outcome.DEAD and result["c"] is Outcome.DEAD
    assert result["x"] is Outcome.SATISFIED
    fails = [e for e in log if isinstance(e, ev.TaskFailed)]
    assert [f.retry_in_s for f in fails] == [0.001, 0.002, None]
    blocked = {e.task: e for e in log if isinstance(e, ev.TaskBlocked)}
    assert set(blocked) == {"b", "c"}
    assert "tests exploded" in blocked["c"].reason


async def test_timeout_fails_the_attempt() -> None:
    plan = make_plan({"slow": []})
    bus, log = recording_bus()

    async def attempt(task: Task, n: int) -> Outcome:
        await asyncio.Event().wait()
        return Outcome.SATISFIED

    policy = RetryPolicy(retries=0, timeout_s=0.01)
    result = await Scheduler(bus, plan, attempt, policy=policy).run()
    assert result["slow"] is Outcome.DEAD
    failed = [e for e in log if isinstance(e, ev.TaskFailed)]
    assert "timed out" in failed[0].reason


async def test_held_task_waits_and_release_unblocks_dependents() -> None:
    plan = make_plan({"a": [], "b": ["a"]})
    bus, log = recording_bus()

    held = asyncio.Event()

    async def attempt(task: Task, n: int) -> Outcome:
        if task.id == "a":
            held.set()
            return Outcome.HELD
        return Outcome.SATISFIED

    sched = Scheduler(bus, plan, attempt)
    runner = asyncio.create_task(sched.run(wait_for_review=True))
    await held.wait()
    for _ in range(5):  # let the scheduler settle "a" as held and go back to waiting
        await asyncio.sleep(0)
    assert not runner.done()
    sched.release("a", Outcome.SATISFIED)
    result = await runner
    assert result == {"a": Outcome.SATISFIED, "b": Outcome.SATISFIED}


async def test_without_waiting_the_run_returns_with_held_tasks() -> None:
    plan = make_plan({"a": [], "b": ["a"]})
    bus, _ = recording_bus()

    async def attempt(task: Task, n: int) -> Outcome:
        return Outcome.HELD

    result = await Scheduler(bus, plan, attempt).run()
    assert result == {"a": Outcome.HELD}


async def test_cancel_running_task_blocks_dependents() -> None:
    plan = make_plan({"a": [], "b": ["a"], "c": []})
    bus, log = recording_bus()
    gate = asyncio.Event()
    cancelled = []

    async def attempt(task: Task, n: int) -> Outcome:
        if task.id == "a":
            try:
                gate.set()
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                cancelled.append(task.id)
                raise
        return Outcome.SATISFIED

    sched = Scheduler(bus, plan, attempt)
    runner = asyncio.create_task(sched.run())
    await gate.wait()
    assert sched.cancel_task("a")
    result = await runner
    assert cancelled == ["a"]
    assert result["a"] is Outcome.DEAD and result["b"] is Outcome.DEAD
    assert result["c"] is Outcome.SATISFIED
    assert any(isinstance(e, ev.TaskCancelled) and e.task == "a" for e in log)


async def test_pause_holds_dispatch_and_concurrency_changes_live() -> None:
    plan = make_plan({f"t{i}": [] for i in range(6)})
    bus, log = recording_bus()
    running, peak = 0, 0
    release = asyncio.Event()

    three_running = asyncio.Event()

    async def attempt(task: Task, n: int) -> Outcome:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        if running == 3:
            three_running.set()
        await release.wait()
        running -= 1
        return Outcome.SATISFIED

    sched = Scheduler(bus, plan, attempt, max_agents=1)
    sched.pause()
    runner = asyncio.create_task(sched.run())
    await asyncio.sleep(0)
    assert running == 0
    sched.set_max_agents(3)
    sched.unpause()
    await three_running.wait()
    release.set()
    await runner
    assert peak == 3
    types = [type(e) for e in log]
    assert ev.DispatchPaused in types and ev.DispatchResumed in types
    assert ev.ConcurrencyChanged in types
    with pytest.raises(ValueError):
        sched.set_max_agents(0)


async def test_reducer_follows_scheduler_events() -> None:
    plan = make_plan({"a": [], "b": ["a"]})
    bus, log = recording_bus()
    bus.emit(ev.PlanProposed, plan=plan.to_dict())

    async def attempt(task: Task, n: int) -> Outcome:
        if task.id == "a":
            raise RuntimeError("boom")
        return Outcome.SATISFIED

    await Scheduler(bus, plan, attempt, policy=RetryPolicy(retries=0)).run()
    state = fold(log)
    assert state.tasks["a"].status is TaskStatus.FAILED
    assert state.tasks["b"].status is TaskStatus.BLOCKED
    assert "boom" in state.tasks["b"].reason


async def test_a_failure_at_the_head_of_a_long_chain_blocks_all_of_it() -> None:
    plan = make_plan({f"t{i}": [f"t{i - 1}"] if i else [] for i in range(3000)})
    bus, log = recording_bus()

    async def attempt(task: Task, n: int) -> Outcome:
        raise RuntimeError("head failed")

    result = await Scheduler(bus, plan, attempt, policy=RetryPolicy(retries=0)).run()
    assert result["t0"] is Outcome.DEAD and result["t2999"] is Outcome.DEAD
    blocked = [e.task for e in log if isinstance(e, ev.TaskBlocked)]
    assert blocked == [f"t{i}" for i in range(1, 3000)]  # each once, nearest first


async def test_a_gated_task_frees_its_slot_and_the_run_waits_for_its_verdict() -> None:
    plan = make_plan({"a": [], "b": ["a"], "c": []})
    bus, log = recording_bus()
    started: list[str] = []
    c_started = asyncio.Event()

    async def attempt(task: Task, n: int) -> Outcome:
        started.append(task.id)
        if task.id == "c":
            c_started.set()
        return Outcome.GATED if task.id == "a" else Outcome.SATISFIED

    sched = Scheduler(bus, plan, attempt, max_agents=1)
    runner = asyncio.create_task(sched.run())
    await c_started.wait()  # one agent slot: c ran because a gave its slot back
    for _ in range(5):
        await asyncio.sleep(0)
    assert not runner.done() and started == ["a", "c"]  # b waits for a's verdict
    sched.release("a", Outcome.SATISFIED)
    result = await runner
    assert started == ["a", "c", "b"] and set(result.values()) == {Outcome.SATISFIED}


async def test_the_gate_can_hold_a_task_or_send_it_back_to_run_again() -> None:
    plan = make_plan({"a": [], "b": []})
    bus, log = recording_bus()
    attempts: list[tuple[str, int]] = []

    async def attempt(task: Task, n: int) -> Outcome:
        attempts.append((task.id, n))
        if task.id == "a" and n == 1:
            sched.retry("a")  # decided while its attempt is still returning: applied after
            return Outcome.GATED
        if task.id == "b":
            sched.release("b", Outcome.HELD)
            return Outcome.GATED
        return Outcome.SATISFIED

    # No backoff: a second attempt of "a" can only come from the gate's early retry.
    sched = Scheduler(bus, plan, attempt, max_agents=1, policy=RetryPolicy(retries=0))
    with pytest.raises(ValueError, match="not waiting for review or in the merge gate"):
        sched.retry("a")
    result = await sched.run()
    assert sorted(attempts) == [("a", 1), ("a", 2), ("b", 1)]
    # A held task does not keep a headless run going; a gated one would.
    assert result == {"a": Outcome.SATISFIED, "b": Outcome.HELD}


async def test_decisions_before_the_loop_starts_are_kept_for_it() -> None:
    plan = make_plan({"a": [], "b": ["a"], "c": [], "d": ["c"]})
    bus, log = recording_bus()
    ran: list[str] = []

    async def attempt(task: Task, n: int) -> Outcome:
        ran.append(task.id)
        return Outcome.SATISFIED

    initial = {"a": Outcome.GATED, "c": Outcome.GATED}
    sched = Scheduler(bus, plan, attempt, initial=initial)
    sched.release("a", Outcome.SATISFIED)  # the gate landed it during resume
    sched.release("c", Outcome.DEAD, "dependency 'c' failed")
    result = await sched.run()
    assert ran == ["b"]  # once each: no task is queued twice
    assert [e.task for e in log if isinstance(e, ev.TaskQueued)] == ["b"]
    assert result["d"] is Outcome.DEAD


async def test_a_second_run_takes_the_revised_plan_and_forgets_the_first() -> None:
    plan = make_plan({"a": [], "b": ["a"]})
    bus, log = recording_bus()
    ran: list[str] = []

    async def attempt(task: Task, n: int) -> Outcome:
        ran.append(task.id)
        return Outcome.DEAD if task.id == "a" else Outcome.SATISFIED

    sched = Scheduler(bus, plan, attempt)
    assert await sched.run() == {"a": Outcome.DEAD, "b": Outcome.DEAD}  # b blocked
    sched.pause()  # paused as the run ended: the next run dispatches all the same
    revised = make_plan({"a": [], "b": ["a"], "a2": [], "b2": ["a2"]})
    sched.load(revised, {"a": Outcome.DEAD, "b": Outcome.DEAD})
    assert not sched.paused
    result = await sched.run()
    assert ran == ["a", "a2", "b2"] and result["b2"] is Outcome.SATISFIED


def plan_with_after(spec: dict[str, tuple[list[str], list[str]]]) -> Plan:
    """task -> (depends_on, after): `after` orders tasks that name a common file."""
    tasks = [{"id": k, "prompt": "p", "depends_on": d, "after": a} for k, (d, a) in spec.items()]
    return parse_plan({"tasks": tasks})


async def test_a_task_ordered_after_another_waits_for_it_to_settle_but_not_to_succeed() -> None:
    # b runs after a (a common file); c depends on a. a fails for good: c is blocked, b runs.
    plan = plan_with_after({"a": ([], []), "b": ([], ["a"]), "c": (["a"], []), "d": ([], [])})
    bus, log = recording_bus()

    async def attempt(task: Task, n: int) -> Outcome:
        await asyncio.sleep(0.01)  # long enough for any other ready task to start meanwhile
        if task.id == "a":
            raise RuntimeError("red")
        return Outcome.SATISFIED

    result = await Scheduler(bus, plan, attempt, max_agents=4, policy=RetryPolicy(0)).run()
    assert result == {
        "a": Outcome.DEAD, "b": Outcome.SATISFIED, "c": Outcome.DEAD, "d": Outcome.SATISFIED,
    }  # fmt: skip
    steps = [(type(e).__name__, getattr(e, "task", "")) for e in log]
    # Never at once, though four agents were free: b is queued once a has failed.
    assert steps.index(("TaskFailed", "a")) < steps.index(("TaskQueued", "b"))
    assert steps.index(("TaskQueued", "d")) < steps.index(("TaskFailed", "a"))
    assert [e.task for e in log if isinstance(e, ev.TaskBlocked)] == ["c"]


async def test_a_held_task_holds_what_runs_after_it_until_it_is_decided() -> None:
    plan = plan_with_after({"a": ([], []), "b": ([], ["a"]), "blocked": (["x"], []), "x": ([], [])})
    bus, _ = recording_bus()
    started: list[str] = []

    async def attempt(task: Task, n: int) -> Outcome:
        started.append(task.id)
        return {"a": Outcome.HELD, "x": Outcome.DEAD}.get(task.id, Outcome.SATISFIED)

    sched = Scheduler(bus, plan, attempt, max_agents=4)
    runner = asyncio.create_task(sched.run(wait_for_review=True))
    for _ in range(20):
        await asyncio.sleep(0)
    assert "b" not in started and not runner.done()
    sched.release("a", Outcome.DEAD, "rejected")  # rejected: b may go on all the same
    result = await runner
    assert result["b"] is Outcome.SATISFIED and result["blocked"] is Outcome.DEAD
    # A task blocked for a dependency releases what runs after it too (nothing waits forever).
    after_blocked = plan_with_after({"x": ([], []), "y": (["x"], []), "z": ([], ["y"])})

    async def x_fails(task: Task, n: int) -> Outcome:
        return Outcome.DEAD if task.id == "x" else Outcome.SATISFIED

    done = await Scheduler(bus, after_blocked, x_fails).run()
    assert done == {"x": Outcome.DEAD, "y": Outcome.DEAD, "z": Outcome.SATISFIED}
