"""`attach` without a terminal, and `stop`: a run driven in the background, from anywhere.

`attach --headless` prints the run's events as they happen, like a headless run, until the
run ends or the engine is stopped; detaching (Ctrl-C) leaves the run going. `stop` pauses a
run where it is (it can be resumed), whether its engine runs in the background or a TUI or
headless run drives it in a terminal.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from pathlib import Path

from maestro_tui.domain.state import fold
from maestro_tui.headless.printer import Output
from maestro_tui.session.attached import AttachedRun
from maestro_tui.session.client import ControlClient, EngineGone
from maestro_tui.session.control import control_path
from maestro_tui.session.finding import FINAL, Found, find_run, not_attachable
from maestro_tui.session.inputs import UserError
from maestro_tui.session.liveness import driver_pid
from maestro_tui.session.outcome import EXIT_OK, exit_code
from maestro_tui.store import Store

STOP_WAIT_S = 30.0  # for the run to record that it stopped


async def attach_printing(db_path: Path, run_ref: str | None, repo: Path, out: Output) -> int:
    """Follow a background run's events, printed, until it ends (Ctrl-C only detaches)."""
    found = await find_run(db_path, run_ref, repo)
    if found.pid is None and found.run.status in FINAL:
        return await _finished(db_path, found, out)
    if not found.engine:
        raise not_attachable(found)
    try:
        run = await AttachedRun.attach(db_path, found.run.run_id)
    except EngineGone:
        raise not_attachable(await find_run(db_path, found.run.run_id, repo)) from None
    printer = out.printer()
    out.say(f"attached to run {run.run_id} ({run.state.status.value}); Ctrl-C detaches")
    unsubscribe = run.subscribe(printer)
    try:
        await run.gone.wait()
        state = await run.catch_up_to_end()
    except asyncio.CancelledError:
        out.say(f"detached: run {run.run_id} goes on. Attach again: maestro-tui attach")
        return EXIT_OK
    finally:
        unsubscribe()
        await run.aclose()
    return exit_code(state)


async def _finished(db_path: Path, found: Found, out: Output) -> int:
    """A run that has ended: how, and its exit code, as if its run had just ended here."""
    r = found.run
    out.say(
        f"run {r.run_id} has finished: {r.status}, {r.tasks_ok}/{r.tasks_failed}/"
        f"{r.tasks_waiting} of {r.tasks_total} tasks (ok/failed/waiting);"
        f" replay it: maestro-tui replay {r.run_id}"
    )
    store = await Store.open_read_only(db_path)
    try:
        state = fold(await store.load_events(r.run_id))
    finally:
        await store.close()
    return exit_code(state)


async def stop_run(db_path: Path, run_ref: str | None, repo: Path, out: Output) -> int:
    """Pause the run where it is, whoever drives it; it can be resumed."""
    found = await find_run(db_path, run_ref, repo)
    run_id = found.run.run_id
    if found.pid is None:
        out.say(f"run {run_id} is not going ({found.run.status}): nothing to stop")
        return EXIT_OK
    if found.engine:
        with contextlib.suppress(EngineGone):
            client = await ControlClient.connect(control_path(db_path, run_id))
            try:
                await client.call("stop", reason="stopped with maestro-tui stop")
                await asyncio.wait_for(client.gone.wait(), STOP_WAIT_S)
            finally:
                await client.aclose()
    else:
        os.kill(found.pid, signal.SIGTERM)  # a TUI or headless run pauses safely on it
    await _until_released(db_path, run_id)
    out.say(f"run {run_id} stopped where it was; go on with it: maestro-tui resume {run_id}")
    return EXIT_OK


async def _until_released(db_path: Path, run_id: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + STOP_WAIT_S
    while driver_pid(db_path, run_id) is not None:
        if loop.time() > deadline:
            raise UserError(f"run {run_id} did not stop within {STOP_WAIT_S:g} s")
        await asyncio.sleep(0.05)
