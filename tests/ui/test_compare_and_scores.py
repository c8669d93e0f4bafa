"""The launcher's history: mark runs, compare them side by side; its scoreboard tab."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.message import Message
from textual.pilot import Pilot
from textual.widgets import DataTable, Static, TabbedContent

from maestro_tui.domain.scoreboard import rate_text
from maestro_tui.ui.screens.compare import TOTAL, CompareScreen
from maestro_tui.ui.screens.launcher import LauncherScreen
from maestro_tui.ui.widgets.scoreboard import Scoreboard
from tests.support.snapshots import SnapCompare
from tests.ui.conftest import freeze_cursors, notifications, screen_text, settle
from tests.ui.test_launcher import LauncherApp, db, history_loaded, posted  # noqa: F401


async def test_marked_runs_are_compared_oldest_first(db: Path) -> None:  # noqa: F811
    messages: list[Message] = []
    app = LauncherApp(db)
    async with app.run_test(size=(150, 30), message_hook=messages.append) as pilot:
        table = (await history_loaded(pilot)).query_one(DataTable)
        table.focus()
        await pilot.press("c")  # nothing marked: says how
        await pilot.pause()
        assert any("mark two runs" in n for n in notifications(app))
        await pilot.press("space")  # mark the newest run (run-c)
        assert str(table.get_row_at(0)[0]).startswith("● rename Basket")
        await pilot.press("down", "c")  # one marked: compared with the highlighted one
        await pilot.press("space", "space")  # mark run-b and unmark it again
        assert not str(table.get_row_at(1)[0]).startswith("●")
        await pilot.press("down", "space", "up", "space", "c")  # run-a and run-b marked too
        await pilot.pause()
        asked = [m.run_ids for m in posted(messages, LauncherScreen.OpenCompare)]
        assert asked == [["run-b", "run-c"], ["run-a", "run-b", "run-c"]]


async def test_the_scoreboard_tab_reads_the_history_when_first_shown(db: Path) -> None:  # noqa: F811
    app = LauncherApp(db)
    async with app.run_test(size=(150, 30)) as pilot:
        await history_loaded(pilot)
        board = app.screen.query_one(Scoreboard)
        assert board.board is None  # not read with the launcher
        app.screen.query_one(TabbedContent).active = "scores-tab"
        await settle(pilot)
        assert board.board is not None
        # /src/shop is no repository here: every repository's runs. All three runs used one
        # worker and model for the role "coder": 6 tasks ran and settled, 5 merged.
        (row,) = [board.table.get_row_at(n) for n in range(board.table.row_count)]
        assert row[:4] == ["llm · demo", "coder", "6", rate_text(5, 6)]
        assert row[7] == f"${6 * 0.0125 / 5:.4f} sim"  # everything spent, per merged task


class CompareApp(LauncherApp):
    """The launcher's test app, on the comparison of run-a and run-b."""

    def get_default_screen(self) -> CompareScreen:  # type: ignore[override]
        return CompareScreen(self.db, ["run-a", "run-b"])


async def test_compare_screen_lines_up_tasks_and_totals(db: Path) -> None:  # noqa: F811
    async with CompareApp(db).run_test(size=(150, 30)) as pilot:
        await settle(pilot)
        table = pilot.app.screen.query_one(DataTable)
        rows = {str(table.get_row_at(n)[0]): table.get_row_at(n) for n in range(table.row_count)}
        assert list(rows) == ["api (coder)", "cli (coder)", "docs (coder)", TOTAL]
        assert rows["cli (coder)"][1] == "merged ✓" and rows["cli (coder)"][9] == "failed"
        assert rows["docs (coder)"][9] == "pending"
        assert rows[TOTAL][1] == "3/3 merged" and rows[TOTAL][9] == "1/3 merged"
        assert rows[TOTAL][7] == "$0.0375 sim" and rows[TOTAL][15] == "$0.0250"
        assert "run-a · succeeded" in str(
            pilot.app.screen.query_one("#compare-runs", Static).render()
        )
        await pilot.press("q")


def test_compare_screen_snapshot(snap_compare: SnapCompare, db: Path) -> None:  # noqa: F811
    """You should see two runs named A and B at the top, then a table of the tasks api, cli
    and docs with A's figures and B's side by side (outcome, tests as merged, fix rounds,
    human decisions, diff, tokens, cost, time), cli merged in A and failed in B, docs never
    started in B, a Σ total row; the first task is selected, and under the table it says
    there are no two results of it to compare (its commits are not in any repository here)."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        freeze_cursors(pilot.app)

    assert snap_compare(CompareApp(db), terminal_size=(150, 24), run_before=run_before)


def test_scoreboard_tab_snapshot(snap_compare: SnapCompare, db: Path) -> None:  # noqa: F811
    """You should see the launcher with its "scoreboard" tab chosen: one row for worker llm,
    model demo, role coder: 6 tasks, merged "5/6 [44–97 %]" (counts and an interval, no
    bare percentage for so few), first-try green "–" (no tests ran), cost per merged task
    "$0.0150 sim", and reverted "?": the runs' repository /src/shop is gone, which the line
    above the table says."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await history_loaded(pilot)
        freeze_cursors(pilot.app)
        pilot.app.screen.query_one(TabbedContent).active = "scores-tab"
        await settle(pilot)
        assert "5/6" in screen_text(pilot.app)

    assert snap_compare(LauncherApp(db), terminal_size=(150, 30), run_before=run_before)
