"""Budgets: warn at 80 %, nothing new at 100 %, raising it lets dispatch go on, a task over
its limit fails."""

from __future__ import annotations

import asyncio

from maestro_tui.domain import events as ev
from maestro_tui.domain.plan import Task, parse_plan
from maestro_tui.domain.state import RunState, RunStatus, TaskStatus, reduce
from maestro_tui.engine.budget import BudgetGuard, PlanBudgets, TaskLimits
from maestro_tui.engine.bus import EventBus
from maestro_tui.engine.scheduler import AttemptFn, Outcome, Scheduler


class Harness:
    def __init__(self, tasks: dict[str, list[str]], budget_usd: float) -> None:
        self.plan = parse_plan(
            {"tasks": [{"id": k, "prompt": "p", "depends_on": v} for k, v in tasks.items()]}
        )
        self.bus = EventBus("r")
        self.state = RunState()
        self.log: list[ev.Event] = []
        self.bus.subscribe(self._follow)
        self.bus.emit(
            ev.RunStarted,
            goal="g",
            repo="/r",
            base_branch="main",
            base_commit="c",
            integration_branch="maestro/r",
            merge_policy="auto",
            max_agents=1,
            budget_usd=budget_usd,
        )
        self.bus.emit(ev.PlanProposed, plan=self.plan.to_dict())

    def _follow(self, e: ev.Event) -> None:
        self.log.append(e)
        self.state = reduce(self.state, e)

    def guard(
        self, sched: Scheduler, limits: TaskLimits | None = None, cancel: bool = False
    ) -> None:
        def exhausted() -> None:
            sched.stop_dispatch()
            if cancel:
                sched.interrupt_running("budget spent")

        g = BudgetGuard(
            self.bus,
            lambda: self.state,
            on_exhausted=exhausted,
            on_restored=sched.allow_dispatch,
            on_task_over=sched.abort,
            task_limits=limits or TaskLimits(),
        )
        self.bus.subscribe(g)


def spending(h: Harness, usd: float) -> AttemptFn:
    async def attempt(task: Task, n: int) -> Outcome:
        h.bus.emit(ev.LLMUsage, task=task.id, model="m", tokens_in=1, tokens_out=1, cost_usd=usd)
        return Outcome.SATISFIED

    return attempt


async def test_warning_at_80_percent_then_nothing_new_starts_at_100() -> None:
    h = Harness({"a": [], "b": [], "c": [], "d": []}, budget_usd=1.0)
    sched = Scheduler(h.bus, h.plan, spending(h, 0.45), max_agents=1)
    h.guard(sched)
    result = await sched.run()
    kinds = [type(e).__name__ for e in h.log]
    assert kinds.count("BudgetWarning") == 1 and kinds.count("BudgetExceeded") == 1
    assert kinds.index("BudgetWarning") < kinds.index("BudgetExceeded")
    # a and b spent 0.90 (the warning), c made it 1.35 (exhausted): d never started.
    started = [e.task for e in h.log if isinstance(e, ev.LLMUsage)]
    assert started == ["a", "b", "c"]
    assert "d" not in result
    assert h.state.outcome() is RunStatus.BUDGET_EXHAUSTED
    h.bus.emit(ev.BudgetRaised, kind="usd", limit=10.0)
    assert h.state.budget_exceeded == () and h.state.budget_usd == 10.0


async def test_raising_the_budget_while_running_lets_dispatch_go_on() -> None:
    h = Harness({"a": [], "b": []}, budget_usd=0.1)

    async def attempt(task: Task, n: int) -> Outcome:
        h.bus.emit(ev.LLMUsage, task=task.id, model="m", tokens_in=1, tokens_out=1, cost_usd=0.2)
        if task.id == "a":
            h.bus.emit(ev.BudgetRaised, kind="usd", limit=5.0)
        return Outcome.SATISFIED

    sched = Scheduler(h.bus, h.plan, attempt, max_agents=1)
    h.guard(sched)
    result = await sched.run()
    assert result == {"a": Outcome.SATISFIED, "b": Outcome.SATISFIED}


async def test_cancel_policy_requeues_running_attempts() -> None:
    h = Harness({"a": [], "b": []}, budget_usd=1.0)
    gate = asyncio.Event()

    async def attempt(task: Task, n: int) -> Outcome:
        if task.id == "a":
            await gate.wait()  # still running when b spends the budget
            return Outcome.SATISFIED
        h.bus.emit(ev.LLMUsage, task="b", model="m", tokens_in=1, tokens_out=1, cost_usd=2.0)
        return Outcome.SATISFIED

    sched = Scheduler(h.bus, h.plan, attempt, max_agents=2)
    h.guard(sched, cancel=True)
    await sched.run()
    failed = [e for e in h.log if isinstance(e, ev.TaskFailed)]
    assert [(e.task, e.retry_in_s) for e in failed] == [("a", 0.0)]
    assert h.state.tasks["a"].status is TaskStatus.QUEUED


async def test_a_task_over_its_own_budget_fails_for_good() -> None:
    h = Harness({"a": [], "b": ["a"]}, budget_usd=100.0)

    async def attempt(task: Task, n: int) -> Outcome:
        for _ in range(10):
            h.bus.emit(
                ev.LLMUsage, task=task.id, model="m", tokens_in=500, tokens_out=0, cost_usd=0.01
            )
            await asyncio.sleep(0)
        return Outcome.SATISFIED

    sched = Scheduler(h.bus, h.plan, attempt)
    h.guard(sched, limits=TaskLimits(tokens=2000))
    result = await sched.run()
    assert result["a"] is Outcome.DEAD and result["b"] is Outcome.DEAD
    failed = [e for e in h.log if isinstance(e, ev.TaskFailed)]
    assert failed[0].retry_in_s is None and "over its budget" in failed[0].reason


def test_plan_budgets_read_the_plan_as_it_is_now() -> None:
    plans = [parse_plan({"tasks": [{"id": "a", "prompt": "p", "budget_tokens": 500}]})]
    budgets = PlanBudgets(lambda: plans[-1])
    assert dict(budgets) == {"a": 500} and budgets.get("b") is None
    revised = [{"id": "a", "prompt": "p"}, {"id": "b", "prompt": "p", "budget_tokens": 900}]
    plans.append(parse_plan({"tasks": revised}))  # a revision: a's own budget is gone
    assert dict(budgets) == {"b": 900} and budgets.get("a", 1000) == 1000
