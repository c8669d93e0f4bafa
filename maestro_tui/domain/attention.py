"""When the human is needed: which events call for a notification, and what waits for a person.

Pure: the notifier (channels) and the dashboard ("needs you") both read these, so what rings
the bell and what the dashboard marks are the same things.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from maestro_tui.domain import events as ev
from maestro_tui.domain.state import RunState, RunStatus, TaskStatus, TaskView


class NoticeKind(StrEnum):
    """What a notification is about; each can be switched off in [notify]."""

    MERGE_WAITING = "merge_waiting"
    TASK_FAILED = "task_failed"  # failed for good, or blocked by a failure
    STALLED = "stalled"  # an agent went silent, or asks for input
    BUDGET = "budget"  # 80 % used, or spent
    RUN_FINISHED = "run_finished"


@dataclass(frozen=True)
class Notice:
    """One thing to tell the human: a short title, a line of detail, and where it comes from."""

    kind: NoticeKind
    title: str
    body: str
    run_id: str
    task: str | None = None


def notice_for(event: ev.Event) -> Notice | None:
    """The notification an event calls for, or None (most events need nobody)."""
    run = event.run_id
    match event:
        case ev.MergeWaiting(task=task, reasons=reasons):
            why = reasons[0] if reasons else "it needs a decision"
            return Notice(NoticeKind.MERGE_WAITING, f"{task}: merge waits for you", why, run, task)
        case ev.TaskFailed(task=task, reason=reason, retry_in_s=None):
            return Notice(NoticeKind.TASK_FAILED, f"{task} failed", _line(reason), run, task)
        case ev.TaskStalled(task=task, silent_s=silent):
            return Notice(
                NoticeKind.STALLED,
                f"{task}: its agent stalled",
                f"no output for {silent:.0f} s: stopped, to be retried if it may",
                run,
                task,
            )
        case ev.TaskBlocked(task=task, reason=reason):
            return Notice(NoticeKind.TASK_FAILED, f"{task} is blocked", _line(reason), run, task)
        case ev.BudgetWarning(kind=kind, used=used, limit=limit):
            return Notice(
                NoticeKind.BUDGET,
                "budget 80 % used",
                f"{_amount(kind, used)} of {_amount(kind, limit)}",
                run,
            )
        case ev.BudgetExceeded(kind=kind, used=used, limit=limit):
            return Notice(
                NoticeKind.BUDGET,
                "budget spent: no new task starts",
                f"{_amount(kind, used)} of {_amount(kind, limit)}; raise it to go on",
                run,
            )
        case ev.RunFinished(status=status, merged=merged, failed=failed, waiting=waiting):
            return Notice(
                NoticeKind.RUN_FINISHED,
                f"run {status}",
                f"{merged} merged, {failed} failed, {waiting} waiting for review",
                run,
            )
    return None


def _line(text: str, limit: int = 200) -> str:
    first = text.strip().splitlines()[0] if text.strip() else ""
    return first if len(first) <= limit else first[: limit - 1] + "…"


def _amount(kind: str, value: float) -> str:
    return f"${value:.2f}" if kind == "usd" else f"{value:,.0f} tokens"


@dataclass(frozen=True)
class NeedsYou:
    """One thing on the dashboard that waits for a person, with the task to jump to."""

    kind: NoticeKind
    task: str | None
    reason: str


def task_needs_you(task: TaskView) -> bool:
    """A task a person has to act on: its merge waits for a decision, or its agent stalled
    (until a new attempt starts, or the task settles)."""
    stalled = task.stalled_s is not None and not task.status.settled
    return task.status is TaskStatus.WAITING or stalled


def needs_you(state: RunState) -> list[NeedsYou]:
    """What waits for a human now, most urgent first: merges to decide, stalled agents, then
    a spent budget."""
    tasks = [t for t in state.tasks.values() if task_needs_you(t)]
    found = [
        NeedsYou(NoticeKind.MERGE_WAITING, t.id, t.reason or "merge waits for review")
        for t in tasks
        if t.status is TaskStatus.WAITING
    ]
    found += [
        NeedsYou(NoticeKind.STALLED, t.id, t.reason or "its agent stalled")
        for t in tasks
        if t.status is not TaskStatus.WAITING
    ]
    unfinished = not state.settled and state.status is not RunStatus.CANCELLED
    if state.budget_exceeded and unfinished:
        kinds = " and ".join(state.budget_exceeded)
        found.append(NeedsYou(NoticeKind.BUDGET, None, f"{kinds} budget spent: raise it (b)"))
    return found
