"""How model usage and budgets change RunState: tokens and cost, per model, task and run;
budget warnings, exhaustion and raises."""

from __future__ import annotations

from typing import Any

from maestro_tui.domain import events as ev
from maestro_tui.domain.frozen import replace
from maestro_tui.domain.reducer.base import Handler, update_task
from maestro_tui.domain.views import ModelUsage, RunState


def _usage(s: RunState, e: ev.LLMUsage) -> RunState:
    m = s.models.get(e.model, ModelUsage())
    cost = e.cost_usd or 0.0
    unpriced = 1 if e.cost_usd is None else 0
    models = dict(s.models)
    models[e.model] = ModelUsage(
        calls=m.calls + 1,
        tokens_in=m.tokens_in + e.tokens_in,
        tokens_out=m.tokens_out + e.tokens_out,
        cost_usd=m.cost_usd + cost,
        unpriced_calls=m.unpriced_calls + unpriced,
        simulated=m.simulated or e.simulated,
    )
    s = replace(
        s,
        models=models,
        tokens_in=s.tokens_in + e.tokens_in,
        tokens_out=s.tokens_out + e.tokens_out,
        cost_usd=s.cost_usd + cost,
        unpriced_calls=s.unpriced_calls + unpriced,
        cost_simulated=s.cost_simulated or e.simulated,
    )
    if e.task and e.task in s.tasks:
        t = s.tasks[e.task]
        s = update_task(
            s,
            e.task,
            tokens_in=t.tokens_in + e.tokens_in,
            tokens_out=t.tokens_out + e.tokens_out,
            cost_usd=t.cost_usd + cost,
        )
    return s


def _budget(kind_field: str) -> Handler:
    def handler(s: RunState, e: Any) -> RunState:
        current: tuple[str, ...] = getattr(s, kind_field)
        changes: dict[str, Any] = {kind_field: (*current, e.kind)}
        return s if e.kind in current else replace(s, **changes)

    return handler


def _budget_raised(s: RunState, e: ev.BudgetRaised) -> RunState:
    limits = {"budget_usd": e.limit} if e.kind == "usd" else {"budget_tokens": int(e.limit)}
    return replace(
        s,
        **limits,
        budget_warned=tuple(k for k in s.budget_warned if k != e.kind),
        budget_exceeded=tuple(k for k in s.budget_exceeded if k != e.kind),
    )


HANDLERS: dict[type[ev.Event], Handler] = {
    ev.LLMUsage: _usage,
    ev.BudgetWarning: _budget("budget_warned"),
    ev.BudgetExceeded: _budget("budget_exceeded"),
    ev.BudgetRaised: _budget_raised,
}
