"""What becomes of a result the merge queue could not simply land: what the gate reports
back (landed, red, conflicting, broken), and conflicts routed per `[merge] on_conflict` (held
for the human, handed to the task's agent with the hunks, or the task run again).

A part of MergeQueue, kept in a module of its own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING

from maestro_tui.domain import events as ev
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
from maestro_tui.workspace.validate import TestResult

if TYPE_CHECKING:
    from maestro_tui.engine.bus import EventBus
    from maestro_tui.workspace.repo import Workspace


class MergeOutcomes:
    """Mixed into MergeQueue, which provides these attributes and helpers."""

    _bus: EventBus
    _ws: Workspace
    _branch: str
    _settings: GateSettings
    _pending: dict[str, PendingMerge]
    _approving: dict[str, GateItem]
    _handing: set[asyncio.Task[None]]
    _rounds_used: Callable[[str], int]
    summary_of: Callable[[str], str]

    def _decide(self, decision: Decision) -> None:
        raise NotImplementedError

    def _hold(self, pending: PendingMerge, reasons: list[str]) -> None:
        raise NotImplementedError

    def _hold_item(self, item: GateItem, reason: str) -> None:
        raise NotImplementedError

    def _refuse(self, item: GateItem, why: str, error: Exception) -> None:
        raise NotImplementedError

    def _stop_approval(self, task_id: str, why: str) -> None:
        raise NotImplementedError

    def _get(self, task_id: str) -> PendingMerge:
        raise NotImplementedError

    def _head(self) -> str:
        raise NotImplementedError

    async def conflicts(self, task_id: str) -> tuple[ConflictFile, ...]:
        raise NotImplementedError

    async def _conflict_elsewhere(
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
        self._decide(
            Decision(
                pending.task_id, None, fix=await self._resolve_request(pending, conflicts, used)
            )
        )
        return True

    async def _resolve_request(
        self, pending: PendingMerge, conflicts: tuple[ConflictFile, ...], used: int
    ) -> FixRequest:
        """What the agent gets to resolve a conflict: the hunks and the other tasks' work."""
        paths = [c.path for c in conflicts]
        base = f"{pending.commit}^"
        others = await asyncio.to_thread(self._ws.merged_task_ids, self._branch, base, paths)
        summaries = [(task, self.summary_of(task)) for task in others]
        return FixRequest(pending.commit, conflict_feedback(conflicts, summaries), used + 1)

    async def hand_to_agent(self, task_id: str) -> None:
        """The reviewer hands a waiting conflict to the task's agent (it counts as a fix round;
        the resolution comes back through the queue like any result)."""
        pending = self._get(task_id)
        self._stop_approval(task_id, "handed to the agent")
        conflicts = await self.conflicts(task_id)
        if not conflicts:
            raise ValueError(f"task '{task_id}' does not conflict: approve, reject or retry it")
        fix = await self._resolve_request(pending, conflicts, self._rounds_used(task_id))
        del self._pending[task_id]  # it waits no more: the agent's new result will come
        self._decide(Decision(task_id, None, fix=fix))

    # --- what the gate reports (GateOwner) ---------------------------------------------------

    def landed(self, item: GateItem, head: str) -> None:
        self._pending.pop(item.task_id, None)
        self._approving.pop(item.task_id, None)
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
        check = await asyncio.to_thread(check_merge, self._ws, self._head(), pending.commit)
        if check.clean or not await self._conflict_elsewhere(pending, check.conflicts):
            self._hold_item(item, why)

    def broken(self, item: GateItem, reason: str) -> None:
        if item.approved:
            self._refuse(item, reason, MergeRefused(item.task_id, reason))
        else:
            self._hold_item(item, reason)
