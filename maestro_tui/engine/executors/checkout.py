"""Where a person can look at a task's work: its live worktree while it runs, otherwise a
scratch checkout of its result that is thrown away afterwards."""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from pathlib import Path

from maestro_tui.domain.state import RunState, TaskStatus
from maestro_tui.workspace.repo import Workspace


class NothingToSee(ValueError):
    """The task has no work to look at (yet); the text says why."""


@dataclass(frozen=True)
class TaskCheckout:
    task: str
    path: Path
    branch: str
    live: bool  # the running attempt's own worktree: what you change there may be committed

    def banner(self) -> str:
        if self.live:
            keep = (
                "The task is running and its agent works here too: what you change here is\n"
                "committed with its work when it finishes."
            )
        else:
            keep = "A scratch checkout of the task's result: nothing you do here is kept."
        return (
            f"maestro-tui: a shell in task '{self.task}' ({self.branch})\n"
            f"  {self.path}\n  {keep}\n  Leave with `exit` or Ctrl-D to go back to the dashboard.\n"
        )


async def checkout_for(ws: Workspace, state: RunState, task_id: str) -> TaskCheckout:
    task = state.tasks.get(task_id)
    if task is None:
        raise NothingToSee(f"no task '{task_id}' in this run")
    live = Path(task.worktree) if task.worktree else None
    if task.status is TaskStatus.RUNNING and live is not None and live.is_dir():
        return TaskCheckout(task_id, live, task.branch, live=True)
    if not task.commit:
        raise NothingToSee(f"task '{task_id}' has no work to look at yet ({task.status.value})")
    name = f"shell-{task_id}-{os.getpid()}"
    path = await asyncio.to_thread(
        ws.add_scratch_worktree, ws.scratch_path(state.run_id, name), task.commit
    )
    return TaskCheckout(task_id, path, task.branch or task.commit[:9], live=False)


async def release(ws: Workspace, checkout: TaskCheckout) -> None:
    """Remove a scratch checkout (a live worktree belongs to its attempt and stays)."""
    if not checkout.live:
        await asyncio.to_thread(ws.remove_worktree, checkout.path)
