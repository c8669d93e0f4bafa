"""The decisions a person (or an agent standing in for one) takes on waiting merges: look at
a result, pick another candidate, approve, reject, retry, test a resolution.

A part of the Orchestrator, kept in a module of its own; everything here goes through the
merge queue and its gate (see engine/merge_queue.py for the contract of approve and trial).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import TYPE_CHECKING

from maestro_tui.domain import events as ev
from maestro_tui.domain.state import RunState
from maestro_tui.engine.bus import EventBus
from maestro_tui.engine.merge.policy import Resolution
from maestro_tui.engine.merge.queue import MergeQueue, TrialMerge
from maestro_tui.workspace.merge import ConflictFile
from maestro_tui.workspace.repo import Workspace

if TYPE_CHECKING:
    from maestro_tui.engine.scheduler import Scheduler


class MergeDecisions:
    """Mixed into the Orchestrator, which provides these attributes."""

    state: RunState
    ws: Workspace
    bus: EventBus
    scheduler: Scheduler | None

    @property
    def merge_queue(self) -> MergeQueue:
        raise NotImplementedError

    async def diff_for(self, task_id: str) -> str:
        """The unified diff of a task's result against where it started."""
        task = self.state.tasks[task_id]
        if not task.commit:
            return ""
        return await asyncio.to_thread(self.ws.diff_text, f"{task.commit}^", task.commit)

    async def conflicts_for(self, task_id: str) -> tuple[ConflictFile, ...]:
        """Conflicts of a waiting merge with the integration branch as it is now."""
        return await self.merge_queue.conflicts(task_id)

    def pick_candidate(self, task_id: str, candidate: int) -> None:
        """The human overrides an ensemble's pick while its merge waits for review."""
        task = self.state.tasks[task_id]
        commits = {index: commit for index, commit, _ok, _lines in task.candidates if commit}
        if candidate not in commits:
            raise ValueError(f"task '{task_id}' has no candidate {candidate} with a result")
        self.merge_queue.swap(task_id, commits[candidate])
        self.bus.emit(
            ev.CandidateSelected,
            task=task_id,
            candidate=candidate,
            method="human",
            reason="picked by the reviewer",
        )

    def requeue(self, task_id: str) -> None:
        """Between sessions: drop a waiting result so that resuming runs the task again, on
        the integration branch as it is then (the live counterpart is `retry`)."""
        self.merge_queue.withdraw(task_id)
        self.bus.emit(ev.TaskQueued, task=task_id)

    async def resolve_with_agent(self, task_id: str) -> None:
        """Hand a waiting conflict to the task's agent: it resolves it on top of the branch as
        it is now (a fix round), and the result comes back through the merge queue."""
        await self.merge_queue.hand_to_agent(task_id)

    def retry(self, task_id: str) -> None:
        """Drop a waiting result and run the task again on the current integration branch."""
        self.merge_queue.withdraw(task_id)
        if self.scheduler:
            self.scheduler.retry(task_id)

    async def approve(self, task_id: str, resolution: str | Mapping[str, str] | None = None) -> str:
        """Land a waiting result through the gate (see engine/merge_queue.py for the contract:
        the new head, or an error saying why nothing moved)."""
        return await self.merge_queue.approve(task_id, resolution)

    async def trial(self, task_id: str, resolution: Resolution = None) -> TrialMerge:
        """Test a waiting merge as resolved, on the current branch, landing nothing."""
        return await self.merge_queue.trial(task_id, resolution)

    async def reject(self, task_id: str, reason: str = "") -> None:
        await self.merge_queue.reject(task_id, reason)
