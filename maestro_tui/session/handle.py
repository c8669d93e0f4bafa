"""What a front end holds of a run, wherever its engine runs: a LocalRun (this process drives
it, `--foreground`) or an AttachedRun (an engine process of its own drives it).

Both show the run the same way (its state, plan and events) and take the same commands by
name (session/commands.py); `merges` gives the merge review its decisions as those commands.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any, Protocol

from maestro_tui.domain import events as ev
from maestro_tui.domain.plan import Plan
from maestro_tui.domain.state import RunState
from maestro_tui.engine.merge import Resolution, TrialMerge
from maestro_tui.workspace.merge import ConflictFile
from maestro_tui.workspace.repo import Workspace

Send = Callable[..., Awaitable[Any]]


class RunHandle(Protocol):
    """A run as a front end sees and steers it."""

    detached: bool  # its engine runs in a process of its own: leaving leaves it going
    tails: dict[str, list[str]]  # each task's last output lines when it was opened

    @property
    def run_id(self) -> str: ...

    @property
    def state(self) -> RunState: ...

    @property
    def plan(self) -> Plan: ...

    @property
    def ws(self) -> Workspace: ...

    @property
    def db_path(self) -> Path: ...

    @property
    def running(self) -> bool:
        """Its tasks are being run (by this process or by its engine)."""
        ...

    @property
    def merges(self) -> Merges:
        """The human's decisions on waiting merges, as commands."""
        ...

    def subscribe(self, subscriber: Callable[[ev.Event], None]) -> Callable[[], None]: ...

    def attach_terminal(self, write: Callable[[str], None] | None) -> None: ...

    async def send(self, cmd: str, **args: Any) -> Any: ...

    async def drive(self) -> RunState: ...

    async def aclose(self) -> None: ...


class Merges:
    """The human's decisions on waiting merges, sent as commands; the review screen's face."""

    def __init__(self, send: Send) -> None:
        self._send = send

    async def diff_for(self, task_id: str) -> str:
        return str(await self._send("diff_for", task=task_id))

    async def conflicts_for(self, task_id: str) -> tuple[ConflictFile, ...]:
        return tuple(await self._send("conflicts_for", task=task_id))

    async def approve(self, task_id: str, resolution: Resolution = None) -> str:
        return str(await self._send("approve", task=task_id, resolution=_plain(resolution)))

    async def reject(self, task_id: str, reason: str = "") -> None:
        await self._send("reject", task=task_id, reason=reason)

    async def retry(self, task_id: str) -> None:
        await self._send("retry", task=task_id)

    async def pick_candidate(self, task_id: str, candidate: int) -> None:
        await self._send("pick_candidate", task=task_id, candidate=candidate)

    async def trial(self, task_id: str, resolution: Resolution = None) -> TrialMerge:
        trial: TrialMerge = await self._send("trial", task=task_id, resolution=_plain(resolution))
        return trial

    async def resolve_with_agent(self, task_id: str) -> None:
        await self._send("resolve_with_agent", task=task_id)


def _plain(resolution: Resolution) -> Any:
    """A resolution as JSON carries it: a side, the resolved files' text, or none."""
    return dict(resolution) if isinstance(resolution, Mapping) else resolution
