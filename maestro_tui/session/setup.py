"""What starting a run and reopening one share once the run's lock is held: its bus wired to
the store and the front end, the notifier, the orchestrator, the relay of `maestro-tui say`,
and the RunSession that closes them in order."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AsyncExitStack
from pathlib import Path

from maestro_tui.config import Config
from maestro_tui.domain import events as ev
from maestro_tui.domain.attention import NoticeKind
from maestro_tui.domain.state import RunState
from maestro_tui.engine.bus import EventBus, Subscriber
from maestro_tui.engine.executors import Executor
from maestro_tui.engine.orchestrator import Orchestrator, RunSetup
from maestro_tui.notify.channels import Channel, DesktopChannel, HookChannel, TerminalChannel
from maestro_tui.notify.notifier import Notifier
from maestro_tui.process.malloc import fewer_collections, limit_malloc_arenas
from maestro_tui.process.priority import use_background_executor
from maestro_tui.session.say_delivery import start_relay
from maestro_tui.store.db import Store
from maestro_tui.workspace.repo import Workspace

TerminalWriter = Callable[[str], None]  # writes escape sequences to the run's terminal


class RunSession:
    """An orchestrator together with its store, run lock and notifier; closing it sends what
    the notifier still holds, then releases the rest."""

    def __init__(
        self, orch: Orchestrator, store: Store, stack: AsyncExitStack, notifier: Notifier
    ) -> None:
        self.orch = orch
        self.store = store
        self.notifier = notifier
        self._stack = stack

    @property
    def state(self) -> RunState:
        return self.orch.state

    async def aclose(self) -> None:
        await self._stack.aclose()

    async def __aenter__(self) -> RunSession:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


def set_up_process() -> None:
    """Before a run's work starts in this process: git work below the event loop's priority
    (process/priority.py), the threads to come sharing two malloc arenas, and fewer
    collections pausing the loop (process/malloc.py): in a background engine too, where no
    dashboard sets it."""
    use_background_executor()
    limit_malloc_arenas()
    fewer_collections()


async def open_store(db_path: Path, stack: AsyncExitStack) -> Store:
    """The run store, closed last of all (everything else writes to it)."""
    store = await Store.open(db_path)
    stack.push_async_callback(store.close)
    return store


def assemble(
    stack: AsyncExitStack,
    store: Store,
    setup: RunSetup,
    orchestrator: Callable[[RunSetup], Orchestrator],
    subscribers: Sequence[Subscriber],
    terminal: TerminalWriter | None,
) -> RunSession:
    """The run's session once its store is open and its lock held: the bus wired (secrets
    redacted, the store first, then the front end's subscribers and the notifier), the
    orchestrator made by `orchestrator`, and `maestro-tui say` relayed to its agents."""
    bus, config = setup.bus, setup.config
    _wire(bus, config, store, subscribers)
    notifier = _notifier(config, bus, terminal, stack)
    orch = orchestrator(setup)
    stack.push_async_callback(orch.aclose)  # the merge gate's test runs stop first
    start_relay(stack, store, orch)
    return RunSession(orch, store, stack, notifier)


async def connect_executor(
    ws: Workspace, config: Config, bus: EventBus, stack: AsyncExitStack
) -> Executor | None:
    """The Ray executor when [executor] kind = "ray" (closed with the session); None: here."""
    if config.executor_kind != "ray":
        return None
    from maestro_tui.engine.executors import RayExecutor

    executor = await RayExecutor.connect(ws, config, bus)
    stack.push_async_callback(executor.aclose)
    return executor


def _notifier(
    config: Config, bus: EventBus, terminal: TerminalWriter | None, stack: AsyncExitStack
) -> Notifier:
    """The notifier of [notify], subscribed after the store; closed (queue sent) before it."""
    channels: list[Channel] = []
    if config.notify_bell or config.notify_osc:
        channels.append(
            TerminalChannel(bell=config.notify_bell, osc=config.notify_osc, write=terminal)
        )
    if config.notify_desktop and (desktop := DesktopChannel()).program:
        channels.append(desktop)
    if config.notify_command:
        channels.append(HookChannel(config.notify_command))

    def failed(channel: str, error: str) -> None:
        bus.emit(ev.NotifyFailed, channel=channel, error=error)

    notifier = Notifier(channels, [NoticeKind(k) for k in config.notify_about], failed)
    bus.subscribe(notifier)
    stack.push_async_callback(notifier.aclose)
    return notifier


def _wire(bus: EventBus, config: Config, store: Store, subscribers: Sequence[Subscriber]) -> None:
    from maestro_tui.llm.models import secrets_in_environment

    bus.redact(secrets_in_environment(config))
    bus.subscribe(store.append)
    for subscriber in subscribers:
        bus.subscribe(subscriber)
