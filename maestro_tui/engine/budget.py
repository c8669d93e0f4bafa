"""Budgets: warn at 80 %, start nothing new at 100 %, and stop a task that overspends its own."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

from maestro_tui.domain import events as ev
from maestro_tui.domain.plan import Plan
from maestro_tui.domain.state import RunState
from maestro_tui.engine.bus import EventBus

WARN_AT = 0.8


@dataclass(frozen=True)
class TaskLimits:
    usd: float | None = None
    tokens: int | None = None
    tokens_by_task: Mapping[str, int] = field(default_factory=dict)  # the plan's own limits


class PlanBudgets(Mapping[str, int]):
    """Each task's own token budget (`Task.budget_tokens`) in the plan as it is now: the
    budget guard lives as long as the run, through revisions of its plan."""

    def __init__(self, plan: Callable[[], Plan]) -> None:
        self._plan = plan

    def __getitem__(self, task_id: str) -> int:
        task = self._plan().by_id.get(task_id)
        if task is None or not task.budget_tokens:
            raise KeyError(task_id)
        return task.budget_tokens

    def __iter__(self) -> Iterator[str]:
        return (t.id for t in self._plan().tasks if t.budget_tokens)

    def __len__(self) -> int:
        return sum(1 for _ in self)


def run_usage(state: RunState) -> dict[str, tuple[float, float]]:
    """kind -> (used, limit) for each run budget that is set."""
    out: dict[str, tuple[float, float]] = {}
    if state.budget_usd is not None:
        out["usd"] = (state.cost_usd, state.budget_usd)
    if state.budget_tokens is not None:
        out["tokens"] = (float(state.tokens), float(state.budget_tokens))
    return out


def task_overspend(state: RunState, task_id: str, limits: TaskLimits) -> str | None:
    """Why a task is over its own budget, or None."""
    task = state.tasks.get(task_id)
    if task is None:
        return None
    if limits.usd is not None and task.cost_usd > limits.usd:
        return f"over its budget: ${task.cost_usd:.4f} of ${limits.usd:g}"
    tokens = task.tokens_in + task.tokens_out
    limit = limits.tokens_by_task.get(task_id, limits.tokens)
    if limit is not None and tokens > limit:
        return f"over its budget: {tokens} of {limit} tokens"
    return None


class BudgetGuard:
    """A bus subscriber that turns usage into budget events and tells the run what to do."""

    def __init__(
        self,
        bus: EventBus,
        state: Callable[[], RunState],
        *,
        on_exhausted: Callable[[], None],
        on_restored: Callable[[], None],
        on_task_over: Callable[[str, str], None],
        task_limits: TaskLimits = TaskLimits(),
    ) -> None:
        self._bus = bus
        self._state = state
        self._on_exhausted = on_exhausted
        self._on_restored = on_restored
        self._on_task_over = on_task_over
        self._task_limits = task_limits

    def __call__(self, event: ev.Event) -> None:
        if isinstance(event, ev.LLMUsage):
            self._check(event.task)
        elif isinstance(event, ev.BudgetRaised):
            self._check(None)
            if not self._state().budget_exceeded:
                self._on_restored()

    def _check(self, task_id: str | None) -> None:
        state = self._state()
        for kind, (used, limit) in run_usage(state).items():
            if used >= limit and kind not in state.budget_exceeded:
                self._bus.emit(ev.BudgetExceeded, kind=kind, used=used, limit=limit)
                self._on_exhausted()
            elif used >= WARN_AT * limit and kind not in state.budget_warned:
                self._bus.emit(ev.BudgetWarning, kind=kind, used=used, limit=limit)
        if task_id:
            reason = task_overspend(state, task_id, self._task_limits)
            if reason:
                self._on_task_over(task_id, reason)
