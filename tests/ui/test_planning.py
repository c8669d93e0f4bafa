"""The planning screen: the preflight and the planner shown as they go, from the first frame;
a cancel that records nothing; the red-base question in a modal; the plan review in place."""

from __future__ import annotations

import sqlite3
import sys
import tomllib
from pathlib import Path
from typing import Any

from textual.pilot import Pilot
from textual.widgets import RichLog, Static

from maestro_tui import cli
from maestro_tui.config import load_config
from maestro_tui.domain import events as ev
from maestro_tui.domain.plan import parse_plan
from maestro_tui.session.lifecycle import RunSession
from maestro_tui.session.outcome import EXIT_INTERRUPTED
from maestro_tui.session.preparing import Outlet, Prepared
from maestro_tui.ui.app import MaestroApp
from maestro_tui.ui.entry import planned_run_app
from maestro_tui.ui.screens.planning import Planning, PlanningScreen
from maestro_tui.workspace.repo import Workspace
from tests.support.snapshots import SnapCompare
from tests.ui.conftest import BusWatch, git, make_project, screen_text, settle, task, writes
from tests.ui.scripted_planner import FakePreflight, ScriptedPlanner

SIZE = (160, 48)
GOAL = "Harden the shop package"
QUICK_PLAN = 'goal = "two steps"\n\n' + task("first", writes("a.txt", "a"))


class FixedClock:
    """A clock the test moves: the elapsed time shown does not depend on the machine."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def planning_app(planner: ScriptedPlanner, then: Any, **kwargs: Any) -> MaestroApp:
    return MaestroApp(
        lambda: PlanningScreen(Planning(planner), then, goal=GOAL, **kwargs),
        watch_themes=False,
        theme="textual-dark",
    )


def log_lines(widget: RichLog) -> list[str]:
    return [strip.text.rstrip() for strip in widget.lines]


async def shown_so_far(pilot: Pilot[Any], planner: ScriptedPlanner) -> PlanningScreen:
    """The screen once the planner has played its script: what it reported, flushed now (as
    the view's timer would) and drawn."""
    await planner.reached.wait()
    screen = pilot.app.screen
    assert isinstance(screen, PlanningScreen)
    screen.view.flush()
    await pilot.pause()
    return screen


async def planning_done(pilot: Pilot[Any]) -> None:
    """The planning screen's worker has ended, and what it started has settled."""
    screen = pilot.app.screen
    assert isinstance(screen, PlanningScreen)
    while screen.worker is None:  # it starts once the first frame is drawn
        await pilot.pause()
    await pilot.app.workers.wait_for_complete([screen.worker])
    await settle(pilot)


async def test_the_planner_is_shown_as_it_plans_then_handed_on() -> None:
    planner = ScriptedPlanner()
    handed: list[Any] = []
    clock = FixedClock()
    app = planning_app(planner, handed.append, clock=clock)
    async with app.run_test(size=SIZE) as pilot:
        clock.now += 12.5
        screen = await shown_so_far(pilot, planner)
        text = log_lines(screen.view.text_log)
        assert "planning with scripted/planner …" in text
        # Fragments make lines; a read or a call's end closes the line being streamed.
        assert "Looking at the pricing module first." in text
        assert "Two callers of apply_discount; the cart needs tiers." in text
        assert "  → read shop/pricing.py" in text
        assert log_lines(screen.view.reads_log) == [
            "shop/pricing.py",
            "shop/cart.py:10-40",
            "grep 'def total' shop/",
        ]
        # The line still streaming, under the log.
        partial = screen.view.query_one("#planning-partial", Static)
        assert str(partial.render()) == "Splitting the goal into 3 tasks"
        meters = str(screen.view.query_one("#planning-meters", Static).render())
        assert "3,600 in · 230 out" in meters and "$0.0093" in meters
        assert "calls 2" in meters and "read 3" in meters and "elapsed 0:12" in meters
        assert "esc" in screen_text(app) and "cancel" in screen_text(app)

        log = screen.view.feed.log  # everything reported, kept
        planner.release.set()  # the plan is made
        assert screen.worker is not None
        await screen.worker.wait()
        await pilot.pause()
    assert handed == ["the plan"]
    assert log.reads == ["shop/pricing.py", "shop/cart.py:10-40", "grep 'def total' shop/"]
    assert (log.tokens_in, log.tokens_out) == (3600, 230)


async def test_cancel_stops_the_planner_and_records_nothing(tmp_path: Path) -> None:
    repo = make_project(tmp_path)
    db = tmp_path / "runs.db"
    planner = ScriptedPlanner()
    app, opening, planning = planned_run_app(
        planner, goal=GOAL, db_path=db, review_plan=True, watch_themes=False
    )
    async with app.run_test(size=SIZE) as pilot:
        await planner.reached.wait()  # mid-planning: it has read and spent
        await pilot.press("escape")  # cancel
        await app.workers.wait_for_complete()
    assert app.return_code == EXIT_INTERRUPTED
    assert planner.cancelled and planning.cancelled and planning.error is None
    assert opening.session is None and not db.exists()  # no run, not even a database
    assert git(repo, "branch", "--list", "maestro*") == ""


async def test_the_plan_review_follows_in_place_then_the_run(tmp_path: Path) -> None:
    repo = make_project(tmp_path)
    db = tmp_path / "runs.db"
    ws = Workspace.open(repo)

    def prepared() -> Prepared:
        return Prepared(ws, load_config(ws.root), parse_plan(tomllib.loads(QUICK_PLAN)))

    planner = ScriptedPlanner(finish=prepared)
    planner.release.set()  # no holding: plan, then review
    app, opening, _ = planned_run_app(
        planner, goal=GOAL, db_path=db, review_plan=True, watch_themes=False
    )
    async with app.run_test(size=SIZE) as pilot:
        await planning_done(pilot)  # planned, then the run recorded behind the review
        assert type(app.screen).__name__ == "PlanReviewScreen"
        assert isinstance(opening.session, RunSession)  # driven here: not detached
        watch = BusWatch()
        opening.session.orch.bus.subscribe(watch)
        await pilot.press("a")  # approve
        await watch.wait_for(ev.RunFinished)
        await pilot.press("q")  # the run is over: leave
        await app.workers.wait_for_complete()
    assert app.return_code == 0
    assert (repo / "a.txt").exists() is False  # the user's tree is never touched
    assert git(repo, "show", f"{opening.session.state.integration_branch}:a.txt") == "a\n"


async def test_a_red_base_is_asked_about_in_a_modal() -> None:
    script = [("say", "preflight: the base's tests are RED (8 passed, 1 failed, 0.2 s)")]
    planner = ScriptedPlanner(script=[*script, ("ask", FakePreflight()), ("ask", FakePreflight())])
    app = planning_app(planner, lambda _: None)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, groups=())
        while type(app.screen).__name__ != "ConfirmModal":
            await pilot.pause()
        assert "1 test(s) fail on the base" in screen_text(app)
        await pilot.press("y")  # run anyway
        while len(planner.answers) < 1 or type(app.screen).__name__ != "ConfirmModal":
            await pilot.pause()
        await pilot.press("n")  # stop
        await planner.reached.wait()
        planner.release.set()
        await app.workers.wait_for_complete()
    assert planner.answers == [True, False]


def test_bad_input_found_while_planning_is_reported_after_the_app(
    tmp_path: Path, monkeypatch: Any, capsys: Any
) -> None:
    """`run GOAL` on a terminal opens the planning screen at once; a test command that cannot
    run is found by the preflight behind it, and is still bad input: the message after the
    app, exit code 2, and nothing written."""
    run_async = MaestroApp.run_async
    monkeypatch.setattr(
        MaestroApp, "run_async", lambda self, **kw: run_async(self, headless=True, size=SIZE)
    )
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True)
    repo = make_project(tmp_path, test_command="no-such-test-runner --quick")
    db = tmp_path / "runs.db"

    code = cli.main(["run", GOAL, "--model", "demo", "--repo", str(repo), "--db", str(db)])

    assert code == 2
    assert "no-such-test-runner" in capsys.readouterr().err
    assert git(repo, "branch", "--list", "maestro*") == ""
    if db.exists():
        with sqlite3.connect(db) as conn:
            assert conn.execute("SELECT count(*) FROM runs").fetchone() == (0,)


def test_planning_snapshot(snap_compare: SnapCompare) -> None:
    """You should see "Planning" and the goal at the top; on the left, in a rounded "planner"
    box, two dim status lines (the preflight, green, and "planning with scripted/planner …"),
    the planner's two finished sentences and three cyan "→ read" lines between them; on the
    right, in a "read" box, the three things it read. Under the boxes, the sentence still
    streaming ("Splitting the goal into 3 tasks"), then the meters: 3,600 in · 230 out tokens,
    $0.0093, 2 calls, 3 read, 0:12 elapsed. The footer offers esc to cancel."""
    planner = ScriptedPlanner(delay_s=0.0)
    clock = FixedClock()

    async def run_before(pilot: Pilot[Any]) -> None:
        clock.now += 12.5
        await shown_so_far(pilot, planner)

    app = planning_app(planner, lambda _: None, clock=clock)
    assert snap_compare(app, terminal_size=(120, 30), run_before=run_before)


def test_headless_planning_prints_what_the_planner_reads() -> None:
    import io

    from maestro_tui.headless.printer import Output

    stream = io.StringIO()
    progress = Output(stream=stream).planning()
    progress.said("thinking")
    progress.read("shop/cart.py")
    progress.spent(10, 2, 0.001)
    assert stream.getvalue() == "planner read shop/cart.py\n"
    assert isinstance(Outlet(print, progress).progress, type(progress))
