"""A run this process drives (`--foreground`), held the way a front end holds one attached to a
background engine (session/attached.py): its state, plan and events to show, and commands sent
by name through the same table the engine answers from (session/commands.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from maestro_tui.domain import events as ev
from maestro_tui.domain.plan import Plan
from maestro_tui.domain.state import RunState
from maestro_tui.session.commands import command_sender
from maestro_tui.session.handle import Merges
from maestro_tui.session.lifecycle import RunSession
from maestro_tui.workspace.repo import Workspace


class LocalRun:
    """The session's orchestrator behind the front end's view of a run."""

    detached = False  # the run ends with this process

    def __init__(self, session: RunSession) -> None:
        self.session = session
        self.orch = session.orch
        self._send = command_sender(self.orch)
        self.tails: dict[str, list[str]] = {}  # its agents' last lines: none before it runs here

    @property
    def run_id(self) -> str:
        return self.orch.bus.run_id

    @property
    def state(self) -> RunState:
        return self.orch.state

    @property
    def plan(self) -> Plan:
        return self.orch.plan

    @property
    def ws(self) -> Workspace:
        return self.orch.ws

    @property
    def db_path(self) -> Path:
        return self.session.store.path

    @property
    def running(self) -> bool:
        return self.orch.running

    @property
    def merges(self) -> Merges:
        return Merges(self.send)

    def subscribe(self, subscriber: Callable[[ev.Event], None]) -> Callable[[], None]:
        return self.orch.bus.subscribe(subscriber)

    def attach_terminal(self, write: Callable[[str], None] | None) -> None:
        """Where the notifier's bell and desktop notices go: this front end's terminal."""
        self.session.notifier.attach_terminal(write)

    async def send(self, cmd: str, **args: Any) -> Any:
        """A command by name, as the engine's channel would carry it; its answer."""
        return await self._send(cmd, **args)

    async def drive(self) -> RunState:
        """Run it here to the end; merges wait for the human, not for the run's end."""
        return await self.orch.run(wait_for_review=True)

    async def aclose(self) -> None:
        await self.session.aclose()
