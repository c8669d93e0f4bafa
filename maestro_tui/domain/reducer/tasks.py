"""How a task's events change its view: started, committed, tested, finished, failed, and the
rest of an attempt's life (its agent's session and waits, fix rounds, critic, candidates)."""

from __future__ import annotations

from maestro_tui.domain import events as ev
from maestro_tui.domain.reducer.base import Handler, update_task
from maestro_tui.domain.views import RunState, TaskStatus


def _task_started(s: RunState, e: ev.TaskStarted) -> RunState:
    return update_task(
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
    return update_task(
        s,
        e.task,
        tests_passed=e.passed,
        n_passed=e.n_passed,
        n_failed=e.n_failed,
        test_tail=e.output_tail,
    )


def _committed(s: RunState, e: ev.TaskCommitted) -> RunState:
    return update_task(
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
    return update_task(
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
    return update_task(s, e.task, status=status, reason=e.reason, finished_ts=e.ts, waiting="")


def _session(s: RunState, e: ev.AgentSession) -> RunState:
    if e.candidate is not None:  # an ensemble's candidates each have their own
        return update_task(s, e.task, waiting="")
    return update_task(s, e.task, session_id=e.session_id, waiting="")


def _waiting(s: RunState, e: ev.TaskWaiting) -> RunState:
    return update_task(s, e.task, waiting=f"{e.reason}; trying again in {e.retry_in_s:g} s")


def _stalled(s: RunState, e: ev.TaskStalled) -> RunState:
    reason = f"stalled: no output for {e.silent_s:.0f} s"
    return update_task(s, e.task, stalled_s=e.silent_s, reason=reason, waiting="")


def _taken_over(s: RunState, e: ev.TaskTakenOver) -> RunState:
    status = TaskStatus.MERGED if e.commit else TaskStatus.DONE
    return update_task(s, e.task, status=status, commit=e.source_commit, taken_over=e.source)


HANDLERS: dict[type[ev.Event], Handler] = {
    ev.TaskQueued: lambda s, e: update_task(s, e.task, status=TaskStatus.QUEUED),
    ev.TaskStarted: _task_started,
    # The clone of a Ray attempt, for a shell on the same machine (elsewhere it does not exist).
    ev.AttemptPlaced: lambda s, e: s if e.candidate else update_task(s, e.task, worktree=e.workdir),
    ev.TestsRan: _tests_ran,
    ev.TaskCommitted: _committed,
    ev.TaskFinished: _finished,
    ev.TaskFailed: _failed,
    ev.TaskBlocked: lambda s, e: update_task(s, e.task, status=TaskStatus.BLOCKED, reason=e.reason),
    ev.TaskCancelled: lambda s, e: update_task(
        s, e.task, status=TaskStatus.CANCELLED, reason=e.reason or "cancelled", finished_ts=e.ts
    ),
    ev.TaskFixing: lambda s, e: update_task(s, e.task, fix_rounds=e.round),
    ev.TaskTakenOver: _taken_over,
    ev.AgentSession: _session,
    ev.TaskWaiting: _waiting,
    ev.TaskStalled: _stalled,
    ev.CriticVerdict: lambda s, e: update_task(
        s, e.task, critic=("approved: " if e.approved else "changes: ") + e.comments
    ),
    ev.CandidateFinished: lambda s, e: update_task(
        s,
        e.task,
        candidates=(
            *s.tasks[e.task].candidates,
            (e.candidate, e.commit, e.tests_passed, e.lines_changed),
        )
        if e.task in s.tasks
        else (),
    ),
    ev.CandidateSelected: lambda s, e: update_task(s, e.task, chosen_candidate=e.candidate),
}
