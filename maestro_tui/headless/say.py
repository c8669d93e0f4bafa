"""`say RUN TASK MESSAGE`: a message to an agent of a run that another process is driving.

The message goes through the database, never into the run's events directly (only the
process driving the run writes those): the driver delivers it and answers, and this waits
for that answer, so the user learns whether the agent will get it.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from maestro_tui.engine.runlock import is_locked
from maestro_tui.headless.printer import Output
from maestro_tui.session.lifecycle import UserError
from maestro_tui.session.outcome import EXIT_OK
from maestro_tui.store import messages
from maestro_tui.store.db import Store

WAIT_S = 15.0
POLL_S = 0.1


async def say(db_path: Path, run_ref: str, task: str, text: str, out: Output) -> int:
    if not text.strip():
        raise UserError("the message is empty: say what the agent should know")
    store = await Store.open(db_path)
    try:
        run = await store.get_run(run_ref)
        if run is None:
            raise UserError(f"no run '{run_ref}' in {db_path}: see `maestro-tui runs`")
        if not is_locked(db_path, run.run_id):
            raise UserError(
                f"run {run.run_id} is not running in any maestro-tui process: messages go to"
                f" agents at work (resume it first: maestro-tui resume {run.run_id})"
            )
        request = await messages.post(store, run.run_id, task, text.strip())
        loop = asyncio.get_running_loop()
        deadline = loop.time() + WAIT_S
        while (answer := await messages.answer_of(store, request)) is None:
            if loop.time() > deadline:
                print(
                    f"queued for {task}, but the run has not answered in {WAIT_S:g} s: the"
                    " agent gets it if it is still at work when the run looks again",
                    file=out.stream,
                )
                return EXIT_OK
            await asyncio.sleep(POLL_S)
    finally:
        await store.close()
    if answer.startswith("refused: "):
        raise UserError(answer.removeprefix("refused: "))
    print(f"{task}: {answer}", file=out.stream)
    return EXIT_OK
