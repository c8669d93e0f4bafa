"""`maestro-tui engine RUN`: the process that drives a run in the background.

Started by `run`, `demo`, `resume` and `attach` (session/background.py), never by hand. It
holds the run's lock, writes its events, sends its notifications and keeps its budget; front
ends attach through its command channel. It ends when the run does, or on `stop` (the run is
paused where it is and can be resumed), SIGTERM or SIGINT; a hang-up does not reach it.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Awaitable, Mapping
from pathlib import Path

from maestro_tui.headless.printer import Output
from maestro_tui.headless.run import finish, print_metrics
from maestro_tui.session.commands import EngineControl, command_sender
from maestro_tui.session.control import ControlServer, control_path
from maestro_tui.session.lifecycle import RunSession, resume, take_over


async def serve_engine(
    db_path: Path,
    run_ref: str,
    out: Output,
    *,
    new: bool = False,
    max_agents: int | None = None,
    budgets: Mapping[str, float | None] | None = None,
    retry_task: str | None = None,
    resolve_task: str | None = None,
) -> int:
    """Open the run (a new one as recorded; any other as a resume), then serve and drive it."""
    signal.signal(signal.SIGHUP, signal.SIG_IGN)  # belt and braces: it has no terminal
    if new:
        session = await take_over(db_path, run_ref, subscribers=[out.printer()])
    else:
        session, _ = await resume(
            db_path,
            run_ref,
            subscribers=[out.printer()],
            max_agents=max_agents,
            budgets=budgets,
            retry_task=retry_task,
            resolve_task=resolve_task,
        )
    async with session:
        orch = session.orch
        control = EngineControl()
        server = ControlServer(
            control_path(db_path, orch.bus.run_id), command_sender(orch, control)
        )
        unsubscribe = orch.bus.subscribe(server.publish)
        await server.start()
        print(f"engine of run {orch.bus.run_id} listening at {server.path}", file=out.stream)
        try:
            if orch.state.plan_approved:
                control.start.set()
            await _first(control.start.wait(), control.stop.wait())
            if control.start.is_set() and not control.stop.is_set():
                await _drive(session, control)
            if control.stop.is_set():  # who stopped it, in the engine's log
                out.say(f"engine stopped: {control.stop_reason or 'SIGTERM or SIGINT'}")
            await print_metrics(session, out)
        finally:
            unsubscribe()
            await server.aclose()
    return finish(session.state, out)


async def _drive(session: RunSession, control: EngineControl) -> None:
    """Run to the end, or until told to stop: then the run is paused where it is (the events
    say interrupted, resumable), exactly as quitting a TUI that drives it does."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, control.stop.set)
    run = asyncio.create_task(session.orch.run(wait_for_review=True))
    try:
        await _first(run, control.stop.wait())
        if not run.done():
            run.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await run
        else:
            run.result()  # the run's own failure, raised here
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


async def _first(*aws: Awaitable[object]) -> None:
    """Wait until the first of these is done; cancel the rest (not a task given as is)."""
    tasks = [asyncio.ensure_future(a) for a in aws]
    own = [t for t, a in zip(tasks, aws, strict=True) if t is not a]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in own:
            task.cancel()
