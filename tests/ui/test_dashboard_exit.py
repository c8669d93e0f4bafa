"""An app that exits under a live run without its quit key — a browser tab or the server of
`maestro-tui serve` closing, or SIGTERM — still stops the run cleanly: interrupted, resumable."""

from __future__ import annotations

from textual import messages

from maestro_tui.domain import events as ev
from maestro_tui.session.lifecycle import RunSession
from maestro_tui.store import Store
from tests.ui.conftest import BusWatch, dashboard_app


async def test_an_exit_under_a_live_run_records_it_interrupted(
    slow_run: tuple[RunSession, BusWatch],
) -> None:
    session, watch = slow_run
    app = dashboard_app(session)
    async with app.run_test(size=(160, 48)):
        await watch.wait_for(ev.TaskStarted)
        app.post_message(messages.ExitApp())  # what textual-serve's "quit" and SIGTERM send
    await session.aclose()  # as the entry point does as soon as the app returns
    assert watch.of_type(ev.RunFinished)[-1].status == "interrupted"
    store = await Store.open(session.store.path)
    try:
        summary = await store.get_run(session.orch.state.run_id)
    finally:
        await store.close()
    assert summary is not None and summary.status == "interrupted"
