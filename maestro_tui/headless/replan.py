"""`maestro-tui replan RUN`: a new plan of what a run has left, shown, applied, and run."""

from __future__ import annotations

from pathlib import Path

from maestro_tui.headless.printer import Output
from maestro_tui.headless.run import confirm_on_terminal, finish, print_metrics
from maestro_tui.notify.channels import tty_writer
from maestro_tui.session.lifecycle import drive, open_session
from maestro_tui.session.outcome import EXIT_OK
from maestro_tui.session.preparing import Outlet
from maestro_tui.session.replan import apply, plan_remaining


async def replan_run(db_path: Path, run_ref: str, out: Output, *, yes: bool) -> int:
    """Plan what is left, ask (unless `yes`), record the revision, then run the new tasks."""
    session = await open_session(db_path, run_ref, [out.printer()], terminal=tty_writer())
    async with session:
        replanned = await plan_remaining(session, Outlet(out.say, out.planning()))
        if not yes and not confirm_on_terminal(replanned.revision.new_plan):
            print("plan not revised", file=out.stream)
            return EXIT_OK
        apply(session, replanned)
        session.orch.resume()  # its worktrees cleared, and the run said to go on
        state = await drive(session.orch)
        await print_metrics(session, out)
    return finish(state, out)
