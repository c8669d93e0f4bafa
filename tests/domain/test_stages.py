"""The five-stage workflow: its order, its loops, and the per-stage coordination budgets."""

from __future__ import annotations

import pytest

from maestro_tui.domain.stages import CONSULT, ENSEMBLE, Stage, Workflow, WorkflowRefused


def test_it_starts_at_analyze_and_refuses_skipping_ahead() -> None:
    flow = Workflow()
    assert flow.allowed_moves() == (Stage.ANALYZE,)
    with pytest.raises(WorkflowRefused, match="cannot go to implement at the start"):
        flow.enter(Stage.IMPLEMENT)
    flow = flow.enter(Stage.ANALYZE)
    with pytest.raises(WorkflowRefused, match="from analyze: the next stage may be analyze"):
        flow.enter(Stage.IMPLEMENT)


def test_the_whole_loop_counts_visits() -> None:
    flow = Workflow()
    for stage in ("analyze", "hypothesize", "implement", "debug", "implement", "debug"):
        flow = flow.enter(Stage(stage))
    flow = flow.enter(Stage.DEBUG)  # staying is not a new visit
    flow = flow.enter(Stage.HYPOTHESIZE).enter(Stage.IMPLEMENT).enter(Stage.IMPROVE)
    assert flow.visits == {"analyze": 1, "hypothesize": 2, "implement": 3, "debug": 2, "improve": 1}
    assert flow.describe()["next"] == ["debug"]


def test_a_call_over_the_stage_budget_is_refused_with_the_budget_shown() -> None:
    flow = Workflow().enter(Stage.ANALYZE)
    flow = flow.spend(CONSULT).spend(CONSULT)
    with pytest.raises(WorkflowRefused) as caught:
        flow.spend(CONSULT)
    message = str(caught.value)
    assert "analyze: 2 of 2 consults, 0 of 0 ensembles" in message
    assert "next: hypothesize" in message
    with pytest.raises(WorkflowRefused, match="allows no ensembles.*maestro_consult"):
        flow.spend(ENSEMBLE)
    # the budget is per stage, not per visit: coming back does not refill it
    flow = flow.enter(Stage.HYPOTHESIZE).enter(Stage.ANALYZE)
    with pytest.raises(WorkflowRefused, match="budget is spent"):
        flow.spend(CONSULT)


def test_ensembles_where_answers_can_be_compared_and_refunds() -> None:
    flow = Workflow().enter(Stage.ANALYZE).enter(Stage.HYPOTHESIZE).spend(ENSEMBLE)
    with pytest.raises(WorkflowRefused, match="hypothesize: 0 of 2 consults, 1 of 1 ensemble"):
        flow.spend(ENSEMBLE)
    assert flow.refund(ENSEMBLE).spend(ENSEMBLE).used == {"hypothesize": (0, 1)}
    with pytest.raises(WorkflowRefused, match="no stage yet"):
        Workflow().spend(CONSULT)


def test_budgets_can_be_changed_per_stage() -> None:
    budgets = {**Workflow().budgets, Stage.DEBUG: (3, 1)}
    flow = Workflow(budgets=budgets)
    for stage in ("analyze", "hypothesize", "implement", "debug"):
        flow = flow.enter(Stage(stage))
    flow = flow.spend(CONSULT).spend(CONSULT).spend(CONSULT).spend(ENSEMBLE)
    state = flow.describe()
    debug = next(s for s in state["stages"] if s["stage"] == "debug")  # type: ignore[attr-defined]
    assert debug == {
        "stage": "debug",
        "title": "Debug: one step at a time",
        "visits": 1,
        "consults": {"used": 3, "allowed": 3},
        "ensembles": {"used": 1, "allowed": 1},
        "current": True,
    }
