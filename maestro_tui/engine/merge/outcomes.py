"""What becomes of a result the merge queue could not simply land: held for the human,
approved into the gate, or reported back by it (landed, red, conflicting, broken); and
conflicts routed per `[merge] on_conflict` (held for the human, handed to the task's agent
with the hunks, or the task run again).

The merge queue owns one `MergeOutcomes` and the gate reports to it (it is the GateOwner).
The queue reads and changes the book through `waiting` and `approving`, and decides the rest
of a held result's fate (approve, reject, swap, withdraw) itself.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping

from maestro_tui.domain import events as ev
from maestro_tui.engine.bus import EventBus
from maestro_tui.engine.merge.gate import GateItem
from maestro_tui.engine.merge.policy import (
    WITHDRAWN,
    Decision,
    FixRequest,
    GateSettings,
    MergeNeedsResolution,
    MergeRefused,
    PendingMerge,
    conflict_feedback,
    fix_feedback,
    test_detail,
)
from maestro_tui.engine.scheduler import Outcome
from maestro_tui.workspace.merge import ConflictFile, SourceConflicts, check_merge
from maestro_tui.workspace.repo import Workspace
from maestro_tui.workspace.validate import TestResult


def branch_head(ws: Workspace, branch: str) -> str:
    """The integration branch's head; it must exist while the run does."""
    head = ws.branch_head(branch)
    if head is None:
        raise RuntimeError(f"integration branch {branch} is missing")
    return head


class MergeOutcomes:
    """The book of results that wait (for the human, or in the gate as approved) and the
    gate's verdicts on them; every decision goes out through `decide` (the queue's)."""

    def __init__(
        self,
        bus: EventBus,
        ws: Workspace,
        branch: str,
        settings: GateSettings,
        *,
        waiting: Mapping[str, PendingMerge],
        rounds_used: Callable[[str], int],
        summary_of: Callable[[str], str],
        decide: Callable[[Decision], None],
    ) -> None:
        self._bus = bus
        self._ws = ws
        self._branch = branch
        self._settings = settings
        self._rounds_used = rounds_used
        self._summary_of = summary_of  # for the agent that resolves a conflict with its work
        self._decide = decide
        self.waiting: dict[str, PendingMerge] = dict(waiting)  # held for the human, by task
        self.approving: dict[str, GateItem] = {}  # approved, in the gate until it lands
        self._handing: set[asyncio.Task[None]] = set()  # conflicts on their way to an agent

    def get(self, task_id: str) -> PendingMerge:
        """The merge waiting for the human for this task; KeyError saying what waits."""
        try:
            return self.waiting[task_id]
        except KeyError:
            waiting = ", ".join(sorted(self.waiting)) or "none"
            raise KeyError(
                f"task '{task_id}' has no merge waiting for review (waiting: {waiting})"
            ) from None

    def hold(self, pending: PendingMerge, reasons: list[str]) -> None:
        """Hold a result for the human, saying why."""
        self.waiting[pending.task_id] = pending
        self._bus.emit(ev.MergeWaiting, task=pending.task_id, reasons=tuple(reasons))
        self._decide(Decision(pending.task_id, Outcome.HELD))

    def stop_approval(self, task_id: str, why: str) -> bool:
        """Fail an approval still in the gate (the approver is told why); False if none was.
        Taking it out of the gate is the queue's."""
        item = self.approving.pop(task_id, None)
        if item is None:
            return False
        if item.landed is not None and not item.landed.done():
            item.landed.set_exception(MergeRefused(task_id, f"not merged: {why}"))
        return True

    async def conflict_elsewhere(
        self, pending: PendingMerge, conflicts: tuple[ConflictFile, ...]
    ) -> bool:
        """Per `on_conflict`, send a conflicting result back to its agent or run its task
        again; False when it is the human's (policy review, or no fix round left)."""
        s = self._settings
        if s.on_conflict == "retry":
            self._bus.emit(
                ev.MergeRejected, task=pending.task_id, reason=f"{WITHDRAWN}: it conflicted"
            )
            self._decide(Decision(pending.task_id, None))
            return True
        used = self._rounds_used(pending.task_id)
        if s.on_conflict != "agent" or used >= max(1, s.fix_attempts):
            return False
        fix = await self.fix_request(pending, conflicts, used)
        self._decide(Decision(pending.task_id, None, fix=fix))
        return True

    async def fix_request(
        self, pending: PendingMerge, conflicts: tuple[ConflictFile, ...], used: int
    ) -> FixRequest:
        """What the agent gets to resolve a conflict: the hunks and the other tasks' work."""
        paths = [c.path for c in conflicts]
        base = f"{pending.commit}^"
        others = await asyncio.to_thread(self._ws.merged_task_ids, self._branch, base, paths)
        summaries = [(task, self._summary_of(task)) for task in others]
        return FixRequest(pending.commit, conflict_feedback(conflicts, summaries), used + 1)

    # --- what the gate reports (GateOwner) ---------------------------------------------------

    def landed(self, item: GateItem, head: str) -> None:
        self.waiting.pop(item.task_id, None)
        self.approving.pop(item.task_id, None)
        if item.approved:
            self._bus.emit(ev.MergeApproved, task=item.task_id, resolution=item.resolution)
        self._bus.emit(ev.Merged, task=item.task_id, commit=head, auto=not item.approved)
        if item.landed is not None and not item.landed.done():
            item.landed.set_result(head)
        self._decide(Decision(item.task_id, Outcome.SATISFIED))

    def red(self, item: GateItem, result: TestResult, base_red: bool) -> None:
        detail = test_detail(result)
        task_id = item.task_id
        if item.approved:
            why = f"approval refused: the merged result fails its tests ({detail})"
            self._refuse(item, why, MergeRefused(task_id, why, result.output_tail))
            return
        if base_red:
            why = f"tests fail as merged ({detail}), but the integration branch itself is red"
            self._hold_item(item, why + ": not charged to this task")
            return
        s = self._settings
        why = f"tests fail as merged with the integration branch ({detail})"
        if s.on_red != "fix" or s.fix_attempts == 0:
            self._hold_item(item, why)
            return
        used = self._rounds_used(task_id)
        if used < s.fix_attempts:
            fix = FixRequest(item.source.commit, fix_feedback(result), used + 1)
            self._decide(Decision(task_id, None, fix=fix))
            return
        reason = f"{why} after {used} fix round(s)\n{result.output_tail[-1500:]}"
        self._bus.emit(ev.TaskFailed, task=task_id, attempt=item.attempt, reason=reason)
        self._decide(Decision(task_id, Outcome.DEAD, reason=f"dependency '{task_id}' failed"))

    def conflicted(self, item: GateItem, error: SourceConflicts) -> None:
        if not error.stale:
            self._bus.emit(ev.MergeConflict, task=item.task_id, files=error.paths)
        if item.approved:
            refusal = MergeNeedsResolution(item.task_id, error.paths, stale=error.stale)
            self._refuse(item, str(refusal), refusal)
            return
        why = f"conflicts with the integration branch in {', '.join(error.paths)}"
        if error.stale or self._settings.on_conflict == "review":
            self._hold_item(item, why)
            return
        task = asyncio.get_running_loop().create_task(self._conflicted_later(item, why))
        self._handing.add(task)
        task.add_done_callback(self._handing.discard)

    async def _conflicted_later(self, item: GateItem, why: str) -> None:
        """A conflict the gate found (with work that landed ahead of it), per `on_conflict`."""
        pending = PendingMerge(item.task_id, item.title, item.source.commit, item.summary)
        head = branch_head(self._ws, self._branch)
        check = await asyncio.to_thread(check_merge, self._ws, head, pending.commit)
        if check.clean or not await self.conflict_elsewhere(pending, check.conflicts):
            self._hold_item(item, why)

    def broken(self, item: GateItem, reason: str) -> None:
        if item.approved:
            self._refuse(item, reason, MergeRefused(item.task_id, reason))
        else:
            self._hold_item(item, reason)

    # --- helpers -----------------------------------------------------------------------------

    def _hold_item(self, item: GateItem, reason: str) -> None:
        pending = PendingMerge(item.task_id, item.title, item.source.commit, item.summary)
        self.hold(pending, [reason])

    def _refuse(self, item: GateItem, why: str, error: Exception) -> None:
        """An approval that did not land: the task keeps waiting, the approver is told why."""
        self.approving.pop(item.task_id, None)
        self._bus.emit(ev.MergeWaiting, task=item.task_id, reasons=(why,))
        if item.landed is not None and not item.landed.done():
            item.landed.set_exception(error)
