"""A review that survives a moving branch: merges land while the human decides, decisions on
unchanged hunks are kept, only the hunk that really changed asks again, and approving works."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from maestro_tui.config import load_config
from maestro_tui.domain import events as ev
from maestro_tui.domain.plan import Plan, Task
from maestro_tui.session.lifecycle import start_session
from maestro_tui.ui.screens.merge_review import MergeReviewScreen
from maestro_tui.ui.screens.run import RunScreen
from maestro_tui.workspace.repo import Workspace
from tests.support.review_runs import _write, make_project, names, settings
from tests.ui.conftest import WAIT_S, BusWatch, dashboard_app, screen_text, shown

SIZE = (160, 48)


async def loaded(pilot: Pilot[Any]) -> None:
    """The review's own loads done (the run's worker goes on: it waits for this review)."""
    for worker in [w for w in pilot.app.workers if w.group == "merge-review-load"]:
        await worker.wait()
    await pilot.pause()


def plan(go_late: Path) -> Plan:
    """`late` lands during the review of `right`, once the test has made its decisions."""
    return Plan(
    goal="settle the version and colours while other work lands",
    tasks=(
        Task("left", "Version two in blue", "\n".join((
            _write("calc/settings.py", settings(2, "blue")),
            _write("calc/names.py", names("hello")))), files=("calc/settings.py",)),
        Task("right", "Version three in green", "\n".join((
            "@sleep 0.5",  # left merges first; right, from the same base, then conflicts
            _write("calc/settings.py", settings(3, "green")),
            _write("calc/names.py", names("hey")))), files=("calc/settings.py",)),
        # Starts on left's merge, waits for the test, then recolours: it lands mid-review.
        Task("late", "Purple after all", "\n".join((
            f"@wait-for {go_late}", _write("calc/settings.py", settings(2, "purple")))),
            depends_on=("left",)),
    ),
    )  # fmt: skip


async def test_decisions_survive_merges_that_land_during_the_review(tmp_path: Path) -> None:
    repo = make_project(tmp_path)
    go_late = tmp_path / "go-late"
    watch = BusWatch()
    session = await start_session(
        ws=Workspace.open(repo), config=load_config(repo), plan=plan(go_late),
        db_path=tmp_path / "runs.db", max_agents=2, subscribers=[watch],
    )  # fmt: skip
    app = dashboard_app(session)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await watch.wait_for(ev.MergeWaiting, lambda e: e.task == "right")
            await shown(pilot)
            assert isinstance(app.screen, RunScreen)
            app.screen.open_review("right")
            await pilot.pause()
            review = app.screen
            assert isinstance(review, MergeReviewScreen)
            await loaded(pilot)
            files = [(r.path, len(r.conflict.hunks)) for r in review.resolutions]
            assert files == [("calc/names.py", 1), ("calc/settings.py", 2)]
            await pilot.press("t")  # names.py: theirs (hey)
            await pilot.press("right_square_bracket")  # the next file: settings.py
            await pilot.press("t")  # the version: theirs (3)
            await pilot.press("t")  # the colour: theirs (green)
            assert [r.choices for r in review.resolutions] == [["theirs"], ["theirs", "theirs"]]
            # Meanwhile `late` merges: the colour line on our side is purple now.
            go_late.touch()
            await watch.wait_for(ev.Merged, lambda e: e.task == "late")
            async with asyncio.timeout(WAIT_S):
                while not review.changed:  # the screen notices the branch moved and reloads
                    await pilot.pause(0.05)
            await loaded(pilot)
            names_res, settings_res = review.resolutions
            assert settings_res.choices == ["theirs", None]  # only the colour asks again
            assert "purple" in settings_res.conflict.hunks[1].ours
            assert names_res.choices == ["theirs"]
            assert review.conflict_index == 1  # still on settings.py
            await pilot.press("v")  # settings.py as it would be merged
            assert review.pane == "resolved"
            shown_text = screen_text(app)
            assert "VERSION = 3" in shown_text  # decided: theirs
            assert "<<<<<<< ours" in shown_text and "COLOR = 'purple'" in shown_text  # to decide
            await pilot.press("v")  # back to the hunks
            await pilot.press("a")  # approve: refused, the colour is undecided
            await pilot.pause()
            assert review.resolutions[1].choices == ["theirs", None]
            assert review.conflict_index == 1  # it jumped to the hunk that asks again
            await pilot.press("t")  # the colour: theirs (green) after all
            await pilot.press("a")  # approve
            merged = await watch.wait_for(ev.Merged, lambda e: e.task == "right")
            await pilot.pause()
            await pilot.press("q", "y")
            await watch.wait_for(ev.RunFinished)
    finally:
        await session.aclose()
    assert not merged.auto
    integration = watch.of_type(ev.RunStarted)[0].integration_branch
    ws = Workspace.open(repo)
    text = ws.git("show", f"{integration}:calc/settings.py").out
    assert "VERSION = 3" in text and "COLOR = 'green'" in text
    assert ws.git("show", f"{integration}:calc/names.py").out == names("hey")
