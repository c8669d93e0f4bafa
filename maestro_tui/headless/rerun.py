"""`rerun`: a recorded run's plan again with one thing changed, printed as it goes."""

from __future__ import annotations

from pathlib import Path

from maestro_tui.headless.printer import Output
from maestro_tui.headless.run import finish, print_metrics
from maestro_tui.notify.channels import tty_writer
from maestro_tui.session.lifecycle import drive, start_session
from maestro_tui.session.preflight import Preflight
from maestro_tui.session.rerun import PreparedRerun


async def run_rerun(
    db_path: Path, prepared: PreparedRerun, found: Preflight | None, out: Output
) -> int:
    """Record the prepared re-run and drive it to the end, every event printed."""
    session = await start_session(
        **prepared.session_inputs(db_path),
        subscribers=[out.printer()],
        terminal=tty_writer(),
        preflight=found,
    )
    async with session:
        out.say(f"run {session.state.run_id} re-runs {prepared.source.run_id}")
        state = await drive(session.orch)
        await print_metrics(session, out)
    out.say(f"compare them: maestro-tui compare {prepared.source.run_id} {state.run_id}")
    return finish(state, out)
