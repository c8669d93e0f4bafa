"""Snapshots of the screens the dashboard owns, at fixed sizes, from a hand-made run."""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot
from textual.widgets import Input

from maestro_tui.ui.screens.modals import ConfirmModal, NumberModal
from tests.support.snapshots import SnapCompare
from tests.ui.conftest import dashboard_app, ready, shown
from tests.ui.sample_run import middle_events, sample_session


def _mid_run_app() -> Any:
    session, bus, clock = sample_session()
    app = dashboard_app(session, start=False)

    async def run_before(pilot: Pilot[Any]) -> None:
        await ready(pilot)
        middle_events(bus, clock)
        await shown(pilot)

    return app, run_before


def test_dashboard_mid_run(snap_compare: SnapCompare) -> None:
    """You should see the run's status line; eight tasks in four layers (three merged, one
    waiting, two running, two pending); the first task's detail with "1 fix round",
    "candidate 2 of 2 chosen by tests_first" and the critic's approval; every agent's log with
    [task] prefixes; below it the findings tab, newest ([docs]) first; usage at 11% of a $0.50
    budget marked simulated with one unpriced call, and the metrics (overhead 11% ok, Ec 0.34
    miss, test signal 100% ok, merged 75% miss, $/merged); and a merge queue titled
    "1 waiting" listing version-three's conflict."""
    app, run_before = _mid_run_app()
    assert snap_compare(app, terminal_size=(160, 48), run_before=run_before)


def test_dashboard_condensed_at_80_by_24(snap_compare: SnapCompare) -> None:
    """You should see the panes stacked: the task graph, then the combined log, then the
    usage summary beside the merge queue; no task detail, model table or sparkline."""
    app, run_before = _mid_run_app()
    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def test_cancel_confirmation(snap_compare: SnapCompare) -> None:
    """You should see a dialog over the dashboard asking to cancel 'strings', with Keep [n]
    and Cancel task [y] buttons."""
    app, fill = _mid_run_app()

    async def run_before(pilot: Pilot[Any]) -> None:
        await fill(pilot)
        question = "Cancel task 'strings'?\nTasks that depend on it will be blocked."
        app.push_screen(ConfirmModal(question, yes="Cancel task", no="Keep"))
        await pilot.pause()

    assert snap_compare(app, terminal_size=(100, 30), run_before=run_before)


def test_budget_dialog(snap_compare: SnapCompare) -> None:
    """You should see a dialog asking for a new budget in US$, holding 1.75, with OK and
    Cancel buttons (the cursor does not blink)."""
    app, fill = _mid_run_app()

    async def run_before(pilot: Pilot[Any]) -> None:
        await fill(pilot)
        app.push_screen(NumberModal("New budget in US$ (spent $0.0560 of $0.50)", value=1.75))
        await pilot.pause()
        app.screen.query_one(Input).cursor_blink = False
        await pilot.pause()

    assert snap_compare(app, terminal_size=(100, 30), run_before=run_before)
