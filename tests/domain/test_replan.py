"""Re-planning, as pure functions: when it is offered, what the planner is told, and how its
answer joins the run (fresh ids, dependencies remapped, settled tasks untouched)."""

from __future__ import annotations

import pytest

from maestro_tui.domain import events as ev
from maestro_tui.domain.plan import Plan, PlanError, Task
from maestro_tui.domain.replan import replan_goal, replan_reasons, revise
from maestro_tui.domain.state import RunStatus, fold

PLAN = Plan(
    goal="three files",
    tasks=(
        Task("good", "Good", "p", files=("good.txt",)),
        Task("broken", "Broken", "p"),
        Task("after", "After", "p", depends_on=("broken",)),
        Task("later", "Later", "p"),
    ),
)


def events() -> list[ev.Event]:
    seq = iter(range(1, 100))

    def e(cls: type[ev.Event], **fields: object) -> ev.Event:
        return cls(run_id="r", seq=next(seq), ts=0.0, **fields)

    return [
        e(ev.RunStarted, goal="three files", repo="/r", base_branch="main", base_commit="0",
          integration_branch="maestro/r", merge_policy="auto", max_agents=2, budget_usd=1.0),
        e(ev.PlanProposed, plan=PLAN.to_dict()),
        e(ev.PlanApproved),
        e(ev.Merged, task="good", commit="c1", auto=True),
        e(ev.TaskFailed, task="broken", attempt=1, reason="no fixture"),
        e(ev.TaskBlocked, task="after", blocked_by="broken", reason="dependency failed"),
    ]  # fmt: skip


def test_a_failure_offers_a_replan_and_the_planner_is_told_what_happened() -> None:
    state = fold(events())
    assert replan_reasons(state) == ["broken failed for good"]
    goal = replan_goal(state)
    assert goal.startswith("three files\n\nThis is a re-plan")
    assert "- good: Good [good.txt]" in goal
    assert "- broken: Broken — no fixture" in goal
    assert "- later: Later" in goal and "your plan replaces these" in goal
    assert "left: $1.00 of $1.00" in goal


def test_the_answer_gets_fresh_ids_and_supersedes_what_was_left() -> None:
    state = fold(events())
    proposal = Plan(
        goal="three files",
        tasks=(Task("broken", "Again", "q"), Task("after", "After", "q", depends_on=("broken",))),
    )
    revision = revise(state, PLAN, proposal, "broken failed for good")
    assert revision.added == ("broken-r1", "after-r1")
    assert revision.plan.by_id["after-r1"].depends_on == ("broken-r1",)
    assert set(revision.superseded) == {"broken", "after", "later"}
    assert [t.id for t in revision.plan.tasks[:4]] == ["good", "broken", "after", "later"]
    assert [t.id for t in revision.new_plan.tasks] == ["broken-r1", "after-r1"]

    done = fold(
        [
            ev.TaskCancelled(run_id="r", seq=50, ts=1.0, task="later", reason="replaced"),
            ev.PlanRevised(run_id="r", seq=51, ts=1.0, plan=revision.plan.to_dict(),
                           added=revision.added, superseded=revision.superseded),
            ev.Merged(run_id="r", seq=52, ts=2.0, task="broken-r1", commit="c2", auto=True),
            ev.Merged(run_id="r", seq=53, ts=2.0, task="after-r1", commit="c3", auto=True),
        ],
        state,
    )  # fmt: skip
    assert done.revisions == 1 and done.tasks["broken"].status.value == "failed"
    assert done.outcome() is RunStatus.SUCCEEDED  # the superseded no longer decide it
    assert replan_reasons(done) == []


def test_a_new_task_may_not_depend_on_an_earlier_one() -> None:
    proposal = Plan(goal="g", tasks=(Task("new", "New", "q", depends_on=("good",)),))
    with pytest.raises(PlanError, match="depends on 'good', which is not a new task"):
        revise(fold(events()), PLAN, proposal)
