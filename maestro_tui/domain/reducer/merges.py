"""How the merge queue's and the gate's events change RunState: results waiting, merged or
rejected, their test as merged, and the base found red."""

from __future__ import annotations

from maestro_tui.domain import events as ev
from maestro_tui.domain.frozen import replace
from maestro_tui.domain.reducer.base import Handler, update_task
from maestro_tui.domain.views import RunState, TaskStatus


def _merge_testing(s: RunState, e: ev.MergeTesting) -> RunState:
    for task_id in e.tasks:
        s = update_task(s, task_id, gate="testing", gate_commit=e.commit)
    return s


def _merge_tested(s: RunState, e: ev.MergeTested) -> RunState:
    for task_id in e.tasks:
        if e.cancelled:
            s = update_task(s, task_id, gate="")
        else:
            s = update_task(
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


HANDLERS: dict[type[ev.Event], Handler] = {
    ev.MergeQueued: lambda s, e: update_task(s, e.task, status=TaskStatus.MERGING, commit=e.commit),
    ev.MergeConflict: lambda s, e: update_task(s, e.task, conflict_files=e.files),
    ev.MergeWaiting: lambda s, e: update_task(
        s, e.task, status=TaskStatus.WAITING, wait_reasons=e.reasons, reason="; ".join(e.reasons)
    ),
    ev.MergeRejected: lambda s, e: update_task(
        s, e.task, status=TaskStatus.REJECTED, reason=e.reason or "rejected by the reviewer"
    ),
    ev.Merged: lambda s, e: update_task(
        s, e.task, status=TaskStatus.MERGED, wait_reasons=(), conflict_files=(), reason=""
    ),
    ev.MergeTesting: _merge_testing,
    ev.MergeTested: _merge_tested,
    ev.BaseRed: lambda s, e: replace(s, base_red=e.commit, base_red_tail=e.output_tail),
    ev.BaseTested: lambda s, e: replace(s, test_run_s=e.duration_s),
    ev.GateSkipped: lambda s, e: replace(s, gate_off=e.reason),
}
