"""Re-planning what a run has left: when to offer it, what the planner is told, and how its
answer joins the plan.

Settled tasks stay settled: merged and failed tasks keep their ids and their state. What
had not started (pending or queued) is superseded by the new plan (cancelled: it never
runs), and so are the failed, rejected, blocked and cancelled tasks whose work it takes
over; a superseded task no longer decides how the run ends. New tasks get ids no task of
the run has had (so their branches are new too); they start from the integration branch.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from maestro_tui.domain.dag import find_cycle
from maestro_tui.domain.plan import Plan, PlanError, Task
from maestro_tui.domain.state import RunState
from maestro_tui.domain.views import TaskStatus, TaskView

NOT_STARTED = (TaskStatus.PENDING, TaskStatus.QUEUED)
IN_FLIGHT = (TaskStatus.RUNNING, TaskStatus.RETRYING, TaskStatus.MERGING, TaskStatus.WAITING)
UNDONE = (TaskStatus.FAILED, TaskStatus.REJECTED, TaskStatus.BLOCKED, TaskStatus.CANCELLED)


def replan_reasons(state: RunState) -> list[str]:
    """Why a new plan of the rest may be wanted now; [] when nothing calls for one."""
    reasons = [
        f"{t.id} {'was rejected' if t.status is TaskStatus.REJECTED else 'failed for good'}"
        for t in state.tasks.values()
        if t.status in (TaskStatus.FAILED, TaskStatus.REJECTED) and t.id not in state.superseded
    ]
    if state.budget_warned or state.budget_exceeded:
        reasons.append(
            "the budget is 80 % spent" if not state.budget_exceeded else "the budget is spent"
        )
    return reasons


def _line(task: TaskView, detail: str = "") -> str:
    files = f" [{', '.join(task.files)}]" if task.files else ""
    return f"- {task.id}: {task.title}{files}" + (f" — {detail}" if detail else "")


def _budget_left(state: RunState) -> str:
    parts = []
    if state.budget_usd is not None:
        parts.append(
            f"${max(0.0, state.budget_usd - state.cost_usd):.2f} of ${state.budget_usd:.2f}"
        )
    if state.budget_tokens is not None:
        parts.append(
            f"{max(0, state.budget_tokens - state.tokens):,} of {state.budget_tokens:,} tokens"
        )
    spent = f"${state.cost_usd:.4f} and {state.tokens:,} tokens spent so far"
    return f"{spent}; left: {' and '.join(parts)}" if parts else f"{spent}; no budget is set"


def replan_goal(state: RunState) -> str:
    """The goal the planner is given: the run's own, what merged, what failed and why, what
    is still going, what had not started, and what is left of the budget."""
    tasks = list(state.tasks.values())
    merged = [_line(t, t.summary) for t in tasks if t.status.satisfied]
    undone = [_line(t, t.reason) for t in tasks if t.status in UNDONE]
    going = [_line(t, t.status.value) for t in tasks if t.status in IN_FLIGHT]
    left = [_line(t) for t in tasks if t.status in NOT_STARTED]
    sections = [
        f"{state.goal}\n\nThis is a re-plan: part of the goal is done. Plan only the work that"
        " is left. Every new task starts from the integration branch, which holds what merged;"
        " do not redo it. Use new task ids, and depend only on tasks of your new plan.",
        "Merged (done):\n" + ("\n".join(merged) or "- nothing yet"),
        "Failed, rejected or blocked (their work is not done; plan it differently):\n"
        + ("\n".join(undone) or "- none"),
    ]
    if going:
        sections.append("Still going (leave their files alone):\n" + "\n".join(going))
    if left:
        sections.append("Not started (your plan replaces these):\n" + "\n".join(left))
    sections.append(f"Budget: {_budget_left(state)}.")
    return "\n\n".join(sections)


@dataclass(frozen=True)
class Revision:
    """A new plan of what was left, joined to the settled part of the run."""

    plan: Plan  # every task of the run: the earlier ones as they were, then the new ones
    added: tuple[str, ...]  # the new tasks' ids (fresh)
    superseded: tuple[str, ...]  # tasks whose work the new ones take over
    renamed: dict[str, str]  # the planner's id -> the id it got, where they differ
    reason: str = ""

    @property
    def new_plan(self) -> Plan:
        """Only the new tasks: what the plan review shows and edits."""
        added = set(self.added)
        return replace(self.plan, tasks=tuple(t for t in self.plan.tasks if t.id in added))


def _fresh(task_id: str, taken: set[str], revision: int) -> str:
    if task_id not in taken:
        return task_id
    n = revision
    while f"{task_id}-r{n}" in taken:
        n += 1
    return f"{task_id}-r{n}"


def revise(state: RunState, plan: Plan, proposal: Plan, reason: str = "") -> Revision:
    """Join the planner's `proposal` to `plan` (the run's) given where the run stands."""
    taken = set(state.tasks) | set(plan.by_id)
    renamed: dict[str, str] = {}
    for task in proposal.tasks:
        new_id = _fresh(task.id, taken, state.revisions + 1)
        taken.add(new_id)
        if new_id != task.id:
            renamed[task.id] = new_id
    proposed = {t.id for t in proposal.tasks}
    problems: list[str] = []
    added: list[Task] = []
    for task in proposal.tasks:
        deps = []
        for dep in task.depends_on:
            if dep in proposed:
                deps.append(renamed.get(dep, dep))
            else:
                problems.append(f"task '{task.id}': depends on '{dep}', which is not a new task")
        added.append(replace(task, id=renamed.get(task.id, task.id), depends_on=tuple(deps)))
    if problems:
        raise PlanError(problems)
    superseded = tuple(
        t.id
        for t in state.tasks.values()
        if (t.status in NOT_STARTED or t.status in UNDONE) and t.id not in state.superseded
    )
    # Every task stays in the plan (a blocked one may name one that never started); the
    # superseded are settled by the revision, and never run.
    joined = Plan(goal=plan.goal, tasks=(*plan.tasks, *added))
    cycle = find_cycle(joined.graph())
    if cycle:
        raise PlanError(["dependency cycle: " + " -> ".join(cycle)])
    return Revision(joined, tuple(t.id for t in added), superseded, renamed, reason)
