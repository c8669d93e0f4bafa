"""A new plan of what a run has left, for both front ends: planned, then applied.

The planner is told the run's goal, what merged, what failed and why, what is still going
and what is left of the budget (domain/replan.py), and explores the integration branch as it
stands, in a scratch checkout (what merged is there; the user's checkout has none of it).
Nothing is recorded while it plans; `apply` records its calls and the revision.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from maestro_tui.domain.replan import Revision, replan_goal, replan_reasons, revise
from maestro_tui.session.lifecycle import RunSession, UserError, record_usage
from maestro_tui.session.preparing import Outlet

if TYPE_CHECKING:
    from maestro_tui.llm.client import Completion


@dataclass(frozen=True)
class Replanned:
    """The planner's revision of a run, and its calls (recorded when it is applied)."""

    revision: Revision
    usage: Sequence[Completion]


async def plan_remaining(session: RunSession, outlet: Outlet) -> Replanned:
    """Ask the run's planner for a new plan of what is left; UserError when nothing is."""
    from maestro_tui.session.plans import make_plan

    orch, state = session.orch, session.state
    if orch.running:
        raise UserError("the run is going: re-plan once it has stopped (or its tasks settled)")
    reasons = replan_reasons(state)
    if not reasons:
        raise UserError(
            f"run {state.run_id}: nothing to re-plan — no task failed for good or was rejected,"
            " and the budget is not 80 % spent"
        )
    outlet.say(f"re-planning what is left: {'; '.join(reasons)}")
    ws = orch.ws
    head = ws.branch_head(state.integration_branch)
    if head is None:
        raise UserError(f"run {state.run_id}: its branch {state.integration_branch} is gone")
    scratch = ws.scratch_path(state.run_id, "replan")
    await asyncio.to_thread(ws.add_scratch_worktree, scratch, head)
    try:
        goal = replan_goal(state)
        proposal, usage = await make_plan(orch.config, goal, scratch, outlet.say, outlet.progress)
    finally:
        await asyncio.to_thread(ws.remove_worktree, scratch)
    revision = revise(state, orch.plan, proposal, "; ".join(reasons))
    outlet.say(
        f"new plan: {len(revision.added)} task(s) for what is left; "
        f"{len(revision.superseded)} earlier task(s) superseded"
    )
    return Replanned(revision, usage)


def apply(session: RunSession, replanned: Replanned, revision: Revision | None = None) -> None:
    """Record the planner's calls and the revision (as reviewed, when `revision` is given)."""
    record_usage(session.orch.bus, replanned.usage)
    session.orch.revise_remaining(revision or replanned.revision)
