"""The decisions a person (or an agent standing in for one) takes on waiting merges: look at
a result, pick another candidate, approve, reject, retry, test a resolution.

The orchestrator holds one as `merges`; everything here goes through the merge queue and its
gate (see engine/merge/queue.py for the contract of approve and trial).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping

from maestro_tui.domain import events as ev
from maestro_tui.domain.state import RunState
from maestro_tui.engine.bus import EventBus
from maestro_tui.engine.merge.policy import Decision, Resolution
from maestro_tui.engine.merge.queue import MergeQueue, TrialMerge
from maestro_tui.workspace.merge import ConflictFile
from maestro_tui.workspace.repo import Workspace


class MergeDecisions:
    """The human's side of the merge queue, on the run as it is now."""

    def __init__(
        self,
        queue: Callable[[], MergeQueue],
        ws: Workspace,
        bus: EventBus,
        state: Callable[[], RunState],
        decided: Callable[[Decision], None],
    ) -> None:
        self._queue = queue  # made when first needed
        self._ws = ws
        self._bus = bus
        self._state = state
        self._decided = decided  # as the queue reports its own: the run frees or re-runs it

    async def diff_for(self, task_id: str) -> str:
        """The unified diff of a task's result against where it started."""
        task = self._state().tasks[task_id]
        if not task.commit:
            return ""
        return await asyncio.to_thread(self._ws.diff_text, f"{task.commit}^", task.commit)

    async def conflicts_for(self, task_id: str) -> tuple[ConflictFile, ...]:
        """Conflicts of a waiting merge with the integration branch as it is now."""
        return await self._queue().conflicts(task_id)

    def pick_candidate(self, task_id: str, candidate: int) -> None:
        """The human overrides an ensemble's pick while its merge waits for review."""
        task = self._state().tasks[task_id]
        commits = {index: commit for index, commit, _ok, _lines in task.candidates if commit}
        if candidate not in commits:
            raise ValueError(f"task '{task_id}' has no candidate {candidate} with a result")
        self._queue().swap(task_id, commits[candidate])
        self._bus.emit(
            ev.CandidateSelected,
            task=task_id,
            candidate=candidate,
            method="human",
            reason="picked by the reviewer",
        )

    def requeue(self, task_id: str) -> None:
        """Between sessions: drop a waiting result so that resuming runs the task again, on
        the integration branch as it is then (the live counterpart is `retry`)."""
        self._queue().withdraw(task_id)
        self._bus.emit(ev.TaskQueued, task=task_id)

    async def resolve_with_agent(self, task_id: str) -> None:
        """Hand a waiting conflict to the task's agent: it resolves it on top of the branch as
        it is now (a fix round), and the result comes back through the merge queue."""
        await self._queue().hand_to_agent(task_id)

    def retry(self, task_id: str) -> None:
        """Drop a waiting result and run the task again on the current integration branch."""
        self._queue().withdraw(task_id)
        self._decided(Decision(task_id, None))  # no outcome: run it again from scratch

    async def approve(self, task_id: str, resolution: str | Mapping[str, str] | None = None) -> str:
        """Land a waiting result through the gate (see engine/merge/queue.py for the contract:
        the new head, or an error saying why nothing moved)."""
        return await self._queue().approve(task_id, resolution)

    async def trial(self, task_id: str, resolution: Resolution = None) -> TrialMerge:
        """Test a waiting merge as resolved, on the current branch, landing nothing."""
        return await self._queue().trial(task_id, resolution)

    async def reject(self, task_id: str, reason: str = "") -> None:
        await self._queue().reject(task_id, reason)
