"""How the run's own events change RunState: its start, plan, revisions, pauses and finish.

Also what the run carries besides its tasks: the run it re-runs and the findings tasks publish.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from maestro_tui.domain import events as ev
from maestro_tui.domain.frozen import replace
from maestro_tui.domain.reducer.base import Handler
from maestro_tui.domain.views import RunState, RunStatus, TaskStatus, TaskView


def _run_started(s: RunState, e: ev.RunStarted) -> RunState:
    return replace(
        s,
        run_id=e.run_id,
        goal=e.goal,
        repo=e.repo,
        status=RunStatus.PLANNING,
        base_branch=e.base_branch,
        integration_branch=e.integration_branch,
        merge_policy=e.merge_policy,
        max_agents=e.max_agents,
        budget_usd=e.budget_usd,
        budget_tokens=e.budget_tokens,
        started_ts=e.ts,
    )


def _views(plan: Mapping[str, Any]) -> dict[str, TaskView]:
    return {
        t["id"]: TaskView(
            id=t["id"],
            title=t.get("title", t["id"]),
            role=t.get("role", "coder"),
            prompt=t.get("prompt", ""),
            files=tuple(t.get("files", ())),
            depends_on=tuple(t.get("depends_on", ())),
            after=tuple(t.get("after", ())),
        )
        for t in plan.get("tasks", [])
    }


def _plan_proposed(s: RunState, e: ev.PlanProposed) -> RunState:
    tasks = _views(e.plan)
    return replace(s, tasks=tasks, layers=e.layers, goal=e.plan.get("goal") or s.goal)


def _plan_revised(s: RunState, e: ev.PlanRevised) -> RunState:
    """New tasks join; the others keep their state (those superseded before they started
    were cancelled just before). The run goes on."""
    views = _views(e.plan)
    tasks = dict(s.tasks)
    for task_id in e.added:
        if task_id in views:
            tasks[task_id] = views[task_id]
    return replace(
        s,
        tasks=tasks,
        layers=e.layers,
        status=RunStatus.RUNNING,
        finished_ts=None,
        revisions=s.revisions + 1,
        superseded=tuple(dict.fromkeys((*s.superseded, *e.superseded))),
    )


def _finished_run(s: RunState, e: ev.RunFinished) -> RunState:
    return replace(s, status=RunStatus(e.status), finished_ts=e.ts, paused=False)


def _resumed(s: RunState, e: ev.RunResumed) -> RunState:
    tasks = dict(s.tasks)
    for task_id in e.interrupted:
        if task_id in tasks:
            tasks[task_id] = replace(tasks[task_id], status=TaskStatus.PENDING)
    return replace(
        s, tasks=tasks, status=RunStatus.RUNNING, finished_ts=None, resumes=s.resumes + 1
    )


HANDLERS: dict[type[ev.Event], Handler] = {
    ev.RunStarted: _run_started,
    ev.PlanProposed: _plan_proposed,
    ev.PlanApproved: lambda s, e: replace(s, plan_approved=True, status=RunStatus.RUNNING),
    ev.PlanRevised: _plan_revised,
    ev.RunResumed: _resumed,
    ev.DispatchPaused: lambda s, e: replace(s, paused=True),
    ev.DispatchResumed: lambda s, e: replace(s, paused=False),
    ev.ConcurrencyChanged: lambda s, e: replace(s, max_agents=e.max_agents),
    ev.RunFinished: _finished_run,
    ev.RerunOf: lambda s, e: replace(
        s, rerun_of=e.source, base_branch=e.base_branch or s.base_branch
    ),
    ev.FindingPublished: lambda s, e: replace(s, findings=(*s.findings, (e.task, e.text))),
}
