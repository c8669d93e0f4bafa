"""A run that an engine process drives, as a front end attached to it sees and steers it.

What it shows comes from the run's events: those committed so far, read from the store once,
then each new one as the engine pushes it (no polling). What it does goes to the engine as a
command (session/commands.py) and comes back as events, like everyone else's.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from maestro_tui.config import ConfigError
from maestro_tui.config.snapshot import settings_from_json
from maestro_tui.domain import events as ev
from maestro_tui.domain.attention import NoticeKind
from maestro_tui.domain.plan import Plan, parse_plan
from maestro_tui.domain.state import RunState
from maestro_tui.engine.history import Follower
from maestro_tui.notify.channels import TerminalChannel
from maestro_tui.notify.notifier import Notifier
from maestro_tui.session.client import ControlClient, EngineGone
from maestro_tui.session.control import control_path
from maestro_tui.session.handle import Merges
from maestro_tui.store import Store
from maestro_tui.workspace.repo import Workspace

Subscriber = Callable[[ev.Event], None]
_SETTINGS_SQL = (
    "SELECT data FROM events WHERE run_id = ? AND type = 'RunConfigured' ORDER BY seq DESC LIMIT 1"
)
_PLAN_SQL = (
    "SELECT data FROM events WHERE run_id = ? AND type IN ('PlanProposed', 'PlanRevised')"
    " ORDER BY seq DESC LIMIT 1"
)


class AttachedRun:
    """The run's state as of its last event, its plan, and every command, sent to its engine."""

    detached = True  # the run goes on when this front end leaves

    def __init__(
        self, client: ControlClient, store: Store, follower: Follower, db_path: Path
    ) -> None:
        self.client = client
        self.store = store
        self.db_path = db_path
        self.follower = follower
        self.run_id = follower.run_id
        self.tails: dict[str, list[str]] = {}  # each task's last output lines when attached
        self.plan = Plan(goal="", tasks=())
        self._subscribers: list[Subscriber] = []
        self._ws: Workspace | None = None
        self._terminal: TerminalChannel | None = None  # [notify] bell/osc, as recorded
        self._terminal_kinds: list[NoticeKind] = []
        self._notifier: tuple[Notifier, Callable[[], None]] | None = None

    @classmethod
    async def attach(cls, db_path: Path, run_id: str) -> AttachedRun:
        """Join the run: its events so far, then every new one; EngineGone if no engine."""
        client = await ControlClient.connect(control_path(db_path, run_id))
        early: list[ev.Event] = []
        client.on_event = early.append
        try:
            await client.follow()  # first: nothing is missed between the read and the push
            store = await Store.open_read_only(db_path)
        except BaseException:
            await client.aclose()
            raise
        run = cls(client, store, Follower(store, run_id), db_path)
        try:
            run.tails = await run.follower.catch_up()
            await run._read_recorded()
        except BaseException:
            await run.aclose()
            raise
        run._apply([e for e in early if e.seq > run.follower.seq])
        client.on_event = lambda event: run._apply([event])
        return run

    async def _read_recorded(self) -> None:
        """The run's plan, and its [notify] bell and OSC settings, as the run recorded them."""
        rows = await self.store.read(_PLAN_SQL, (self.run_id,))
        if rows:
            self.plan = parse_plan(json.loads(rows[0][0])["plan"], goal=self.state.goal)
        rows = await self.store.read(_SETTINGS_SQL, (self.run_id,))
        try:
            config, _ = settings_from_json(json.loads(rows[0][0])["settings"])
        except (IndexError, KeyError, ValueError, ConfigError):
            return  # a run from before settings were recorded: no terminal notices here
        if config.notify_bell or config.notify_osc:
            self._terminal = TerminalChannel(bell=config.notify_bell, osc=config.notify_osc)
            self._terminal_kinds = [NoticeKind(k) for k in config.notify_about]

    @property
    def state(self) -> RunState:
        return self.follower.state

    @property
    def ws(self) -> Workspace:
        if self._ws is None:
            self._ws = Workspace.open(Path(self.state.repo))
        return self._ws

    @property
    def gone(self) -> asyncio.Event:
        """Set once the engine has hung up: the run ended, stopped, or its engine died."""
        return self.client.gone

    @property
    def running(self) -> bool:
        """Its engine drives it: the plan approved, the engine still there."""
        return self.state.plan_approved and not self.gone.is_set()

    @property
    def merges(self) -> Merges:
        return Merges(self.send)

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        """Each new event, as the run's own bus would give it."""
        self._subscribers.append(subscriber)
        return lambda: self._subscribers.remove(subscriber)

    def _apply(self, events: list[ev.Event]) -> None:
        for event in events:
            if event.seq <= self.follower.seq:
                continue  # already read from the store
            self.follower.apply([event])
            if isinstance(event, ev.PlanProposed | ev.PlanRevised):
                self.plan = parse_plan(event.plan, goal=self.state.goal)
            for subscriber in list(self._subscribers):
                subscriber(event)

    def attach_terminal(self, write: Callable[[str], None] | None) -> None:
        """The bell and OSC notices of [notify] on this front end's terminal, from the events
        the engine pushes (the engine has no terminal; it sends the desktop and hook ones)."""
        if self._notifier is not None:
            self._notifier[1]()  # unsubscribe the last one
            self._notifier = None
        if write is None or self._terminal is None:
            return
        self._terminal.write = write
        notifier = Notifier([self._terminal], self._terminal_kinds)
        self._notifier = (notifier, self.subscribe(notifier))

    async def send(self, cmd: str, **args: Any) -> Any:
        """A command to the engine; its answer, or its refusal raised as the same class."""
        return await self.client.call(cmd, **args)

    async def drive(self) -> RunState:
        """Start the run if its plan waits for approval, then follow it until its engine
        ends (the run finished, or was stopped)."""
        await self.send("start")
        await self.gone.wait()
        return await self.catch_up_to_end()

    async def stop(self, reason: str = "stopped by the user") -> None:
        """Pause the run where it is and end its engine (it can be resumed)."""
        try:
            await self.client.call("stop", reason=reason)
        except EngineGone:
            return
        await self.gone.wait()

    async def catch_up_to_end(self) -> RunState:
        """After the engine hung up: the events it committed last, read from the store."""
        while await self.follower.poll():
            pass
        return self.state

    async def aclose(self) -> None:
        self.attach_terminal(None)
        await self.client.aclose()
        await self.store.close()
