"""RunState and its pure reducer: `reduce(state, event) -> state`.

The live TUI, replay, resume and the headless summary all rebuild what they show from
events through this one function, so a replayed run looks exactly like the live one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from maestro_tui.domain import events as ev
from maestro_tui.domain.frozen import replace

# Re-exported: the statuses and views are imported from here, beside the state they make up.
from maestro_tui.domain.views import ModelUsage as ModelUsage
from maestro_tui.domain.views import RunStatus as RunStatus
from maestro_tui.domain.views import TaskStatus as TaskStatus
from maestro_tui.domain.views import TaskView as TaskView

_EMPTY: Mapping[str, Any] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class RunState:
    """Everything the front ends show about one run."""

    run_id: str = ""
    goal: str = ""
    repo: str = ""
    status: RunStatus = RunStatus.PLANNING
    base_branch: str = ""
    integration_branch: str = ""
    merge_policy: str = "auto"
    max_agents: int = 1
    paused: bool = False
    plan_approved: bool = False
    tasks: Mapping[str, TaskView] = field(default_factory=lambda: _EMPTY)
    layers: tuple[tuple[str, ...], ...] = ()
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float = 0.0
    unpriced_calls: int = 0
    cost_simulated: bool = False
    models: Mapping[str, ModelUsage] = field(default_factory=lambda: _EMPTY)
    budget_usd: float | None = None
    budget_tokens: int | None = None
    budget_warned: tuple[str, ...] = ()
    budget_exceeded: tuple[str, ...] = ()
    findings: tuple[tuple[str, str], ...] = ()
    base_red: str = ""  # the integration head last found failing its own tests ("" = none)
    base_red_tail: str = ""
    test_run_s: float | None = None  # one run of the tests on the base (the preflight)
    flaky_tests: tuple[str, ...] = ()  # failed in the gate, then passed when run again
    gate_off: str = ""  # why merges are not tested as merged in this run ("" = they are)
    started_ts: float | None = None
    finished_ts: float | None = None
    resumes: int = 0
    rerun_of: str = ""  # the run this one re-runs ("" = none)
    revisions: int = 0  # new plans of what was left (PlanRevised)
    superseded: tuple[str, ...] = ()  # tasks whose work a revision took over

    def _live(self, *statuses: TaskStatus) -> int:
        """Tasks in `statuses` that still decide the outcome (no revision took them over)."""
        if not self.superseded:
            return self.count(*statuses)
        return sum(
            1 for t in self.tasks.values() if t.status in statuses and t.id not in self.superseded
        )

    def count(self, *statuses: TaskStatus) -> int:
        return sum(1 for t in self.tasks.values() if t.status in statuses)

    @property
    def waiting_merges(self) -> list[TaskView]:
        return [t for t in self.tasks.values() if t.status is TaskStatus.WAITING]

    @property
    def running(self) -> list[TaskView]:
        return [t for t in self.tasks.values() if t.status is TaskStatus.RUNNING]

    @property
    def settled(self) -> bool:
        return all(t.status.settled for t in self.tasks.values())

    @property
    def tokens(self) -> int:
        return self.tokens_in + self.tokens_out

    @property
    def unchanged(self) -> list[TaskView]:
        """Tasks that were to change files and ended "done, no changes" (reviews may)."""
        return [
            t
            for t in self.tasks.values()
            if t.status is TaskStatus.DONE and t.files and t.role != "reviewer"
        ]

    def outcome(self) -> RunStatus:
        """The status a run ends with, given where its tasks stand now."""
        if self._live(TaskStatus.FAILED, TaskStatus.BLOCKED, TaskStatus.REJECTED):
            return RunStatus.FAILED
        if self.count(TaskStatus.WAITING):
            return RunStatus.WAITING
        if self._live(TaskStatus.CANCELLED):
            return RunStatus.CANCELLED
        if self.settled:
            return RunStatus.UNCHANGED if self.unchanged else RunStatus.SUCCEEDED
        if self.budget_exceeded:
            return RunStatus.BUDGET_EXHAUSTED
        return RunStatus.INTERRUPTED


def _task(state: RunState, task_id: str, **changes: Any) -> RunState:
    current = state.tasks.get(task_id)
    if current is None:
        return state
    tasks = dict(state.tasks)
    tasks[task_id] = replace(current, **changes)
    return replace(state, tasks=tasks)


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


def _task_started(s: RunState, e: ev.TaskStarted) -> RunState:
    return _task(
        s,
        e.task,
        status=TaskStatus.RUNNING,
        attempts=e.attempt,
        worker=e.worker,
        branch=e.branch,
        worktree=e.worktree,
        reason="",
        tests_passed=None,
        n_passed=None,
        n_failed=None,
        started_ts=e.ts,
        finished_ts=None,
        fix_rounds=0,
        critic="",
        candidates=(),
        chosen_candidate=None,
        gate="",
        gate_commit="",
        gate_n_passed=None,
        gate_n_failed=None,
        gate_tail="",
        waiting="",
        stalled_s=None,
    )


def _tests_ran(s: RunState, e: ev.TestsRan) -> RunState:
    return _task(
        s,
        e.task,
        tests_passed=e.passed,
        n_passed=e.n_passed,
        n_failed=e.n_failed,
        test_tail=e.output_tail,
    )


def _committed(s: RunState, e: ev.TaskCommitted) -> RunState:
    return _task(
        s,
        e.task,
        commit=e.commit,
        files_changed=e.files,
        insertions=e.insertions,
        deletions=e.deletions,
    )


def _finished(s: RunState, e: ev.TaskFinished) -> RunState:
    status = TaskStatus.MERGING if e.commit else TaskStatus.DONE
    task = s.tasks.get(e.task)
    reason = ""
    if not e.commit and task is not None and task.files and task.role != "reviewer":
        reason = f"done, no changes: it was to change {', '.join(task.files[:5])}"
    return _task(
        s,
        e.task,
        status=status,
        summary=e.summary,
        commit=e.commit,
        finished_ts=e.ts,
        waiting="",
        reason=reason,
    )


def _failed(s: RunState, e: ev.TaskFailed) -> RunState:
    status = TaskStatus.FAILED if e.retry_in_s is None else TaskStatus.RETRYING
    return _task(s, e.task, status=status, reason=e.reason, finished_ts=e.ts, waiting="")


def _session(s: RunState, e: ev.AgentSession) -> RunState:
    if e.candidate is not None:  # an ensemble's candidates each have their own
        return _task(s, e.task, waiting="")
    return _task(s, e.task, session_id=e.session_id, waiting="")


def _waiting(s: RunState, e: ev.TaskWaiting) -> RunState:
    return _task(s, e.task, waiting=f"{e.reason}; trying again in {e.retry_in_s:g} s")


def _stalled(s: RunState, e: ev.TaskStalled) -> RunState:
    reason = f"stalled: no output for {e.silent_s:.0f} s"
    return _task(s, e.task, stalled_s=e.silent_s, reason=reason, waiting="")


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
        s = _task(
            s,
            e.task,
            tokens_in=t.tokens_in + e.tokens_in,
            tokens_out=t.tokens_out + e.tokens_out,
            cost_usd=t.cost_usd + cost,
        )
    return s


def _taken_over(s: RunState, e: ev.TaskTakenOver) -> RunState:
    status = TaskStatus.MERGED if e.commit else TaskStatus.DONE
    return _task(s, e.task, status=status, commit=e.source_commit, taken_over=e.source)


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


def _merge_testing(s: RunState, e: ev.MergeTesting) -> RunState:
    for task_id in e.tasks:
        s = _task(s, task_id, gate="testing", gate_commit=e.commit)
    return s


def _merge_tested(s: RunState, e: ev.MergeTested) -> RunState:
    for task_id in e.tasks:
        if e.cancelled:
            s = _task(s, task_id, gate="")
        else:
            s = _task(
                s,
                task_id,
                gate="passed" if e.passed else "failed",
                gate_commit=e.commit,
                gate_n_passed=e.n_passed,
                gate_n_failed=e.n_failed,
                gate_tail=e.output_tail,
            )
    if e.flaky:
        s = replace(s, flaky_tests=tuple(dict.fromkeys((*s.flaky_tests, *e.flaky))))
    if e.passed and s.base_red:  # a green tree on the branch's line: the base is mended
        s = replace(s, base_red="", base_red_tail="")
    return s


def _budget(kind_field: str) -> Callable[[RunState, Any], RunState]:
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


_HANDLERS: dict[type[ev.Event], Callable[[RunState, Any], RunState]] = {
    ev.RunStarted: _run_started,
    ev.PlanProposed: _plan_proposed,
    ev.PlanApproved: lambda s, e: replace(s, plan_approved=True, status=RunStatus.RUNNING),
    ev.PlanRevised: _plan_revised,
    ev.RunResumed: _resumed,
    ev.DispatchPaused: lambda s, e: replace(s, paused=True),
    ev.DispatchResumed: lambda s, e: replace(s, paused=False),
    ev.ConcurrencyChanged: lambda s, e: replace(s, max_agents=e.max_agents),
    ev.RunFinished: _finished_run,
    ev.TaskQueued: lambda s, e: _task(s, e.task, status=TaskStatus.QUEUED),
    ev.TaskStarted: _task_started,
    # The clone of a Ray attempt, for a shell on the same machine (elsewhere it does not exist).
    ev.AttemptPlaced: lambda s, e: s if e.candidate else _task(s, e.task, worktree=e.workdir),
    ev.TestsRan: _tests_ran,
    ev.TaskCommitted: _committed,
    ev.TaskFinished: _finished,
    ev.TaskFailed: _failed,
    ev.TaskBlocked: lambda s, e: _task(s, e.task, status=TaskStatus.BLOCKED, reason=e.reason),
    ev.TaskCancelled: lambda s, e: _task(
        s, e.task, status=TaskStatus.CANCELLED, reason=e.reason or "cancelled", finished_ts=e.ts
    ),
    ev.MergeQueued: lambda s, e: _task(s, e.task, status=TaskStatus.MERGING, commit=e.commit),
    ev.MergeConflict: lambda s, e: _task(s, e.task, conflict_files=e.files),
    ev.MergeWaiting: lambda s, e: _task(
        s, e.task, status=TaskStatus.WAITING, wait_reasons=e.reasons, reason="; ".join(e.reasons)
    ),
    ev.MergeRejected: lambda s, e: _task(
        s, e.task, status=TaskStatus.REJECTED, reason=e.reason or "rejected by the reviewer"
    ),
    ev.Merged: lambda s, e: _task(
        s, e.task, status=TaskStatus.MERGED, wait_reasons=(), conflict_files=(), reason=""
    ),
    ev.TaskFixing: lambda s, e: _task(s, e.task, fix_rounds=e.round),
    ev.TaskTakenOver: _taken_over,
    ev.RerunOf: lambda s, e: replace(
        s, rerun_of=e.source, base_branch=e.base_branch or s.base_branch
    ),
    ev.AgentSession: _session,
    ev.TaskWaiting: _waiting,
    ev.TaskStalled: _stalled,
    ev.CriticVerdict: lambda s, e: _task(
        s, e.task, critic=("approved: " if e.approved else "changes: ") + e.comments
    ),
    ev.CandidateFinished: lambda s, e: _task(
        s,
        e.task,
        candidates=(
            *s.tasks[e.task].candidates,
            (e.candidate, e.commit, e.tests_passed, e.lines_changed),
        )
        if e.task in s.tasks
        else (),
    ),
    ev.CandidateSelected: lambda s, e: _task(s, e.task, chosen_candidate=e.candidate),
    ev.MergeTesting: _merge_testing,
    ev.MergeTested: _merge_tested,
    ev.BaseRed: lambda s, e: replace(s, base_red=e.commit, base_red_tail=e.output_tail),
    ev.BaseTested: lambda s, e: replace(s, test_run_s=e.duration_s),
    ev.GateSkipped: lambda s, e: replace(s, gate_off=e.reason),
    ev.LLMUsage: _usage,
    ev.FindingPublished: lambda s, e: replace(s, findings=(*s.findings, (e.task, e.text))),
    ev.BudgetWarning: _budget("budget_warned"),
    ev.BudgetExceeded: _budget("budget_exceeded"),
    ev.BudgetRaised: _budget_raised,
}


def reduce(state: RunState, event: ev.Event) -> RunState:
    """Apply one event. Events that do not change what is shown return the same state."""
    handler = _HANDLERS.get(type(event))
    return handler(state, event) if handler else state


def fold(events: Iterable[ev.Event], state: RunState | None = None) -> RunState:
    """Fold a sequence of events into a RunState."""
    s = state or RunState()
    handlers = _HANDLERS
    for event in events:
        handler = handlers.get(type(event))
        if handler:
            s = handler(s, event)
    return s
