"""MergeReviewScreen against a real run: a held conflicting merge, decided from the keyboard.

Every approval is checked in git (the integration branch has the chosen side, no markers),
in the events (MergeApproved, Merged) and in the run's state.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import pytest
from textual.widgets import Static

from maestro_tui.domain import events as ev
from maestro_tui.domain.state import TaskStatus
from maestro_tui.ui.screens.merge_review import MergeReviewScreen, RejectModal
from maestro_tui.ui.widgets.conflict_view import ConflictView
from maestro_tui.ui.widgets.diff_view import DiffView
from tests.ui.conftest_review import (
    SIDES,
    ConflictRun,
    ReviewHost,
    conflict_run,
    fake_review,
    git,
    names,
    notifications,
    settings,
    settle,
)

SIZE = (160, 48)


def host(run: ConflictRun) -> ReviewHost:
    return ReviewHost(lambda: MergeReviewScreen(run.orch, run.held))


def screen_of(app: ReviewHost) -> MergeReviewScreen:
    assert isinstance(app.screen, MergeReviewScreen)
    return app.screen


async def test_approve_taking_theirs_really_merges(tmp_path: Path) -> None:
    async with conflict_run(tmp_path) as run:
        app = host(run)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            screen = screen_of(app)
            assert [r.path for r in screen.resolutions] == ["calc/names.py", "calc/settings.py"]
            await pilot.press("T")  # take theirs for every hunk of calc/names.py
            await pilot.press("right_square_bracket")  # next conflicted file
            await pilot.press("T")  # take theirs for every hunk of calc/settings.py
            await pilot.press("a")  # approve
            await settle(pilot)
            assert app.results == ["approved"]
        version, color, greeting = SIDES[run.held]
        assert run.show("calc/settings.py") == settings(version, color)
        assert run.show("calc/names.py") == names(greeting)
        approved = run.of_type(ev.MergeApproved)
        assert [(e.task, e.resolution) for e in approved] == [(run.held, "theirs")]
        assert run.held in {e.task for e in run.of_type(ev.Merged)}
        assert run.orch.state.tasks[run.held].status is TaskStatus.MERGED


async def test_approve_hunk_by_hunk_refused_until_every_hunk_is_decided(tmp_path: Path) -> None:
    async with conflict_run(tmp_path) as run:
        app = host(run)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            screen = screen_of(app)
            await pilot.press("right_square_bracket")  # to calc/settings.py
            view = screen.query_one(ConflictView)
            assert screen.conflict_index == 1 and len(screen.resolutions[1].choices) == 2
            await pilot.press("o")  # hunk 1 (VERSION): ours; moves on to hunk 2
            assert view.hunk_index == 1
            await pilot.press("t")  # hunk 2 (COLOR): theirs
            assert screen.resolutions[1].choices == ["ours", "theirs"]
            await pilot.press("a")  # approve: refused, calc/names.py is undecided
            await settle(pilot)
            assert app.results == []
            assert any("calc/names.py: hunk 1/1 (line 1) is undecided" in m
                       for m in notifications(app))  # fmt: skip
            assert screen.conflict_index == 0  # it jumped to the undecided hunk
            await pilot.press("b")  # both: ours, then theirs
            await pilot.press("a")  # approve
            await settle(pilot)
            assert app.results == ["approved"]
        ours, theirs = SIDES[run.merged], SIDES[run.held]
        assert run.show("calc/settings.py") == settings(ours[0], theirs[1])
        assert run.show("calc/names.py") == names(ours[2]) + names(theirs[2])
        assert [e.resolution for e in run.of_type(ev.MergeApproved)] == ["manual"]
        assert run.orch.state.tasks[run.held].status is TaskStatus.MERGED


async def test_reject_asks_for_a_reason_and_keeps_the_branch(tmp_path: Path) -> None:
    async with conflict_run(tmp_path) as run:
        app = host(run)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await pilot.press("r")  # reject: the confirmation opens
            assert isinstance(app.screen, RejectModal)
            await pilot.press("escape")  # changed my mind
            assert app.results == [] and isinstance(app.screen, MergeReviewScreen)
            await pilot.press("r")  # reject again
            await pilot.press(*"duplicate")  # type the reason
            await pilot.press("enter")  # confirm
            await settle(pilot)
            assert app.results == ["rejected"]
        assert run.orch.state.tasks[run.held].status is TaskStatus.REJECTED
        assert [(e.task, e.reason) for e in run.of_type(ev.MergeRejected)] == [
            (run.held, "duplicate")
        ]
        run_id = run.orch.state.run_id
        assert git(run.repo, "rev-parse", "--verify", f"maestro-task/{run_id}/{run.held}")


async def test_retry_withdraws_the_result(tmp_path: Path) -> None:
    async with conflict_run(tmp_path) as run:
        app = host(run)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await pilot.press("R")  # retry on the current integration branch
            await settle(pilot)
            assert app.results == ["retried"]
        (rejected,) = run.of_type(ev.MergeRejected)
        assert rejected.task == run.held and "withdrawn" in rejected.reason
        assert run.held not in {p.task_id for p in run.orch.merge_queue.waiting}


async def test_views_and_navigation_keys(tmp_path: Path) -> None:
    async with conflict_run(tmp_path) as run:
        app = host(run)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            screen = screen_of(app)
            conflicts, diff = screen.query_one(ConflictView), screen.query_one(DiffView)
            assert screen.pane == "conflicts"
            await pilot.press("right_square_bracket")  # next file: calc/settings.py
            await pilot.press("j")  # next hunk
            assert (screen.conflict_index, conflicts.hunk_index) == (1, 1)
            await pilot.press("j")  # no hunk after the last: stays
            await pilot.press("k")  # previous hunk
            assert conflicts.hunk_index == 0
            await pilot.press("n", "N")  # next, previous hunk
            assert conflicts.hunk_index == 0
            await pilot.press("left_square_bracket")  # previous file
            assert screen.conflict_index == 0
            await pilot.press("d")  # show the task's diff
            assert screen.pane == "diff" and diff.diff_layout == "unified"
            assert [f.path for f in diff.files] == ["calc/names.py", "calc/settings.py"]
            await pilot.press("right_square_bracket")  # next file of the diff
            assert diff.file_index == 1 and "calc/settings.py" in bar_text(screen)
            await pilot.press("s")  # side by side
            assert diff.diff_layout == "split" and "split" in bar_text(screen)
            await pilot.press("n")  # next hunk (the only one)
            assert diff.hunk_index == 0
            await pilot.press("s")  # back to unified
            assert diff.diff_layout == "unified"
            await pilot.press("left_square_bracket")  # previous file
            assert diff.file_index == 0
            await pilot.press("d")  # back to the conflicts
            assert screen.pane == "conflicts"
            await pilot.press("escape")  # back to whoever opened the screen
            assert app.results == [None]
        assert run.orch.state.tasks[run.held].status is TaskStatus.WAITING


async def test_editor_resolution_is_refused_with_markers_then_merged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fixer = tmp_path / "fix_names.py"
    fixer.write_text("import sys\nopen(sys.argv[1], 'w').write(\"GREETING = 'by hand'\\n\")\n")
    async with conflict_run(tmp_path) as run:
        app = host(run)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            screen = screen_of(app)
            monkeypatch.setenv("EDITOR", f"{shlex.quote(sys.executable)} -c pass")
            await pilot.press("e")  # edit calc/names.py; the "editor" leaves the markers
            assert any("still has conflict markers" in m for m in notifications(app))
            assert not screen.resolutions[0].decided
            monkeypatch.setenv("EDITOR", f"{shlex.quote(sys.executable)} {shlex.quote(str(fixer))}")
            await pilot.press("e")  # edit again; this time the file is resolved
            assert screen.resolutions[0].manual == "GREETING = 'by hand'\n"
            await pilot.press("right_square_bracket", "O")  # calc/settings.py: all ours
            await pilot.press("a")  # approve
            await settle(pilot)
            assert app.results == ["approved"]
        assert run.show("calc/names.py") == "GREETING = 'by hand'\n"
        ours = SIDES[run.merged]
        assert run.show("calc/settings.py") == settings(ours[0], ours[1])
        assert [e.resolution for e in run.of_type(ev.MergeApproved)] == ["manual"]


def bar_text(screen: MergeReviewScreen) -> str:
    return str(screen.query_one("#file-bar", Static).content)


def test_snapshot_merge_review(snap_compare) -> None:
    """You should see hunk 1 of calc/settings.py decided "ours" (✔ over the ours column),
    hunk 2 current and undecided, and the task's summary, wait reason and 12 passing tests."""
    app = ReviewHost(lambda: MergeReviewScreen(fake_review(), "version-three"))

    async def decide_first_hunk(pilot) -> None:
        await settle(pilot)
        await pilot.press("o")  # hunk 1: ours; hunk 2 becomes current

    assert snap_compare(app, terminal_size=(140, 40), run_before=decide_first_hunk)
