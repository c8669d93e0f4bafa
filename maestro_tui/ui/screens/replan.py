"""r on a run's dashboard: a new plan of what the run has left, on the planning screen, then
through the plan review; once approved, the run goes on with the new tasks.

Offered when a task failed for good or was rejected, or the budget is 80 % spent; taken once
the run has stopped (its running tasks settled), since the scheduler runs one plan at a time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from maestro_tui.domain.plan import Plan, PlanError
from maestro_tui.domain.replan import replan_reasons, revise
from maestro_tui.ui.screens.planning import Planning, PlanningScreen

if TYPE_CHECKING:
    from textual.app import App

    from maestro_tui.session.lifecycle import RunSession
    from maestro_tui.session.preparing import Outlet
    from maestro_tui.session.replan import Replanned


class RunHost(Protocol):
    """What re-planning needs of the run's screen (RunScreen; named here without importing
    it, which imports this module through its keys)."""

    session: RunSession | None

    @property
    def app(self) -> App[Any]: ...

    @property
    def run_active(self) -> bool: ...

    def notify(self, message: str, *, title: str = "", severity: Any = "information") -> None: ...

    def start_run(self) -> object: ...


def replan(screen: RunHost) -> None:
    """Plan what is left, review it, and go on with it (or say why not now)."""
    session = screen.session
    if session is None:
        screen.notify("cannot re-plan: the run is still opening", severity="warning")
        return
    reasons = replan_reasons(session.state)
    if not reasons:
        screen.notify(
            "nothing to re-plan: no task failed for good or was rejected, and the budget is"
            " not 80 % spent",
            severity="warning",
        )
        return
    if screen.run_active:
        screen.notify(
            "re-plan once the run has stopped: tasks are still running or waiting for review"
            " (x cancels one, m reviews the merges)",
            title="not yet",
            severity="warning",
        )
        return
    app = screen.app

    async def plan(outlet: Outlet) -> Replanned:
        from maestro_tui.session.replan import plan_remaining

        return await plan_remaining(session, outlet)

    def planned(replanned: Replanned | None) -> None:
        from maestro_tui.ui.screens.plan_review import PlanReviewScreen

        if replanned is None:
            return

        def reviewed(new_plan: Plan | None) -> None:
            if new_plan is None:
                screen.notify("the plan stays as it was", title="not re-planned")
                return
            _go_on(screen, replanned, new_plan)

        review = PlanReviewScreen(replanned.revision.new_plan, session.orch.ws.root)
        app.push_screen(review, reviewed)

    goal = f"what is left of: {session.state.goal} ({'; '.join(reasons)})"
    # It hands its result back by dismissing itself, so the review is pushed from the run's
    # screen (a callback given while the planning screen was on top would die with it).
    planning = PlanningScreen(
        Planning(plan), lambda done: planning.dismiss(done), goal=goal, title="Re-planning"
    )
    app.push_screen(planning, planned)


def _go_on(screen: RunHost, replanned: Replanned, new_plan: Plan) -> None:
    """Record the reviewed revision and run its tasks."""
    from maestro_tui.session.replan import apply

    assert screen.session is not None
    state, orch = screen.session.state, screen.session.orch
    try:
        revision = revise(state, orch.plan, new_plan, replanned.revision.reason)
        apply(screen.session, replanned, revision)
    except PlanError as exc:
        screen.notify(str(exc), title="plan not accepted", severity="error")
        return
    screen.notify(
        f"{len(revision.added)} new task(s): {', '.join(revision.added)}", title="re-planned"
    )
    screen.start_run()
