"""Sessions, waits and stalls on the task; stalls call for a person; a run whose agents changed
nothing they were to change does not succeed, and its exit code says so."""

from __future__ import annotations

from maestro_tui.domain import events as ev
from maestro_tui.domain.attention import NoticeKind, needs_you, notice_for, task_needs_you
from maestro_tui.domain.state import RunState, RunStatus, TaskStatus, fold
from maestro_tui.engine.bus import EventBus
from maestro_tui.session.outcome import EXIT_OK, EXIT_TASK_FAILED, exit_code, next_step

PLAN = {
    "goal": "g",
    "tasks": [
        {"id": "code", "title": "Code", "files": ["a.py"]},
        {"id": "review", "title": "Review", "role": "reviewer", "files": ["a.py"]},
        {"id": "any", "title": "Anything"},
    ],
}


def started(bus: EventBus) -> list[ev.Event]:
    seen: list[ev.Event] = []
    bus.subscribe(seen.append)
    bus.emit(ev.PlanProposed, plan=PLAN, layers=(("code", "review", "any"),))
    bus.emit(ev.PlanApproved)
    for task in ("code", "review", "any"):
        bus.emit(ev.TaskStarted, task=task, attempt=1, worker="claude")
    return seen


def test_session_wait_and_stall_land_on_the_task_and_clear_when_they_should() -> None:
    bus = EventBus("r1")
    seen = started(bus)
    bus.emit(ev.AgentSession, task="code", attempt=1, session_id="s-1", worker="claude")
    bus.emit(ev.TaskWaiting, task="code", attempt=1, reason="usage limit", retry_in_s=30)
    view = fold(seen).tasks["code"]
    assert (view.session_id, view.waiting) == ("s-1", "usage limit; trying again in 30 s")
    bus.emit(ev.AgentSession, task="code", attempt=1, session_id="s-1", resumed=True)
    assert fold(seen).tasks["code"].waiting == ""  # it went on
    bus.emit(ev.AgentSession, task="code", attempt=1, session_id="c-2", candidate=2)
    assert fold(seen).tasks["code"].session_id == "s-1"  # a candidate's is its own

    bus.emit(ev.TaskStalled, task="code", attempt=1, silent_s=300.4)
    view = fold(seen).tasks["code"]
    assert view.stalled_s == 300.4 and view.reason == "stalled: no output for 300 s"
    assert task_needs_you(view)
    assert [(n.kind, n.task) for n in needs_you(fold(seen))] == [(NoticeKind.STALLED, "code")]
    bus.emit(ev.TaskFailed, task="code", attempt=1, reason="stalled", retry_in_s=2.0)
    assert task_needs_you(fold(seen).tasks["code"])  # until a new attempt starts
    bus.emit(ev.TaskStarted, task="code", attempt=2, worker="claude")
    view = fold(seen).tasks["code"]
    assert view.stalled_s is None and not task_needs_you(view)
    assert view.session_id == "s-1"  # kept for the retry to resume


def test_a_stall_rings_as_stalled() -> None:
    bus = EventBus("r1")
    seen = started(bus)
    bus.emit(ev.TaskStalled, task="code", attempt=1, silent_s=300.0)
    notice = notice_for(seen[-1])
    assert notice is not None and notice.kind is NoticeKind.STALLED
    assert (notice.task, notice.title) == ("code", "code: its agent stalled")
    assert notice_for(seen[0]) is None


def finish_all(bus: EventBus, commits: dict[str, str | None]) -> RunState:
    seen = started(bus)
    for task, commit in commits.items():
        bus.emit(ev.TaskFinished, task=task, attempt=1, summary="said it did", commit=commit)
        if commit:
            bus.emit(ev.Merged, task=task, commit=commit)
    return fold(seen)


def test_a_task_that_was_to_change_files_and_changed_none_keeps_the_run_from_success() -> None:
    state = finish_all(EventBus("r1"), {"code": None, "review": None, "any": None})
    assert state.tasks["code"].status is TaskStatus.DONE
    assert state.tasks["code"].reason == "done, no changes: it was to change a.py"
    assert [t.id for t in state.unchanged] == ["code"]  # a review and a file-less task may
    assert state.outcome() is RunStatus.UNCHANGED
    assert exit_code(state) == EXIT_TASK_FAILED
    assert (next_step(state) or "").startswith("changed nothing, though they were to change")


def test_the_same_run_with_the_change_made_succeeds() -> None:
    state = finish_all(EventBus("r1"), {"code": "c0ffee", "review": None, "any": None})
    assert state.outcome() is RunStatus.SUCCEEDED and exit_code(state) == EXIT_OK
