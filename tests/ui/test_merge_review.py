"""MergeReviewScreen against a real run: a held conflicting merge, decided from the keyboard.

Every approval is checked in git (the integration branch has the chosen side, no markers),
in the events (MergeApproved, Merged) and in the run's state.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Static

from maestro_tui.domain import events as ev
from maestro_tui.domain.state import TaskStatus
from maestro_tui.ui.resolutions import FileResolution, resolution_for
from maestro_tui.ui.screens.merge_review import MergeReviewScreen
from maestro_tui.ui.screens.modals import TextModal
from maestro_tui.ui.widgets.conflict_view import ConflictView, hunk_context
from maestro_tui.ui.widgets.diff_view import DiffView, _split_rows, parse_diff
from tests.support.review_runs import (
    SIDES,
    SNAP_SETTINGS,
    ConflictRun,
    OrchestratorTarget,
    ReviewHost,
    conflict_file,
    conflict_run,
    fake_review,
    names,
    settings,
)
from tests.support.snapshots import SnapCompare
from tests.ui.conftest import git, notifications, settle

SIZE = (160, 48)


def host(run: ConflictRun) -> ReviewHost:
    return ReviewHost(lambda: MergeReviewScreen(OrchestratorTarget(run.orch), run.held))


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
            assert isinstance(app.screen, TextModal)
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
            assert screen.pane == "diff" and layout(diff) == "unified"
            assert [f.path for f in diff.files] == ["calc/names.py", "calc/settings.py"]
            await pilot.press("right_square_bracket")  # next file of the diff
            assert diff.file_index == 1 and "calc/settings.py" in bar_text(screen)
            await pilot.press("s")  # side by side
            assert layout(diff) == "split" and "split" in bar_text(screen)
            await pilot.press("n")  # next hunk (the only one)
            assert diff.hunk_index == 0
            await pilot.press("s")  # back to unified
            assert layout(diff) == "unified"
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


def layout(diff: DiffView) -> str:
    """The diff's layout, read afresh: mypy would carry an earlier comparison's narrowing
    past the key press that changes it."""
    return diff.diff_layout


def bar_text(screen: MergeReviewScreen) -> str:
    return str(screen.query_one("#file-bar", Static).content)


def test_snapshot_merge_review(snap_compare: SnapCompare) -> None:
    """You should see hunk 1 of calc/settings.py decided "ours" (✔ over the ours column),
    hunk 2 current and undecided, and the task's summary, wait reason and 12 passing tests."""
    app = ReviewHost(lambda: MergeReviewScreen(fake_review(), "version-three"))

    async def decide_first_hunk(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press("o")  # hunk 1: ours; hunk 2 becomes current

    assert snap_compare(app, terminal_size=(140, 40), run_before=decide_first_hunk)


async def test_a_clean_merge_is_approved_without_choices() -> None:
    engine = fake_review()
    engine.merges.conflicts = ()  # held for failing tests or size, not for conflicts
    app = ReviewHost(lambda: MergeReviewScreen(engine, "version-three"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = screen_of(app)
        assert screen.pane == "diff" and screen.resolutions == []
        assert screen.check_action("take", ("ours",)) is None  # shown disabled: nothing to choose
        await pilot.press("o")  # ignored
        await pilot.press("a")  # approve
        await settle(pilot)
    assert engine.merges.calls == [("approve", None)] and app.results == ["approved"]


async def test_engine_errors_become_notifications() -> None:
    engine = fake_review()

    async def refuse(task_id: str, resolution: object = None) -> str:
        raise KeyError("task 'version-three' has no merge waiting for review (waiting: none)")

    engine.merges.approve = refuse  # type: ignore[method-assign]
    app = ReviewHost(lambda: MergeReviewScreen(engine, "version-three"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("O")  # all hunks: ours
        await pilot.press("a")  # approve: the engine refuses
        await settle(pilot)
        assert app.results == [] and isinstance(app.screen, MergeReviewScreen)
        assert any("no merge waiting" in m for m in notifications(app))


def test_parse_diff_numbers_lines_and_notes_new_and_binary_files() -> None:
    text = (
        "diff --git a/new.py b/new.py\nnew file mode 100644\nindex 0000000..1111111\n"
        "--- /dev/null\n+++ b/new.py\n@@ -0,0 +1,2 @@\n+a = 1\n+b = 2\n"
        "diff --git a/logo.png b/logo.png\nBinary files a/logo.png and b/logo.png differ\n"
        "diff --git a/m.py b/m.py\n--- a/m.py\n+++ b/m.py\n@@ -3,3 +3,3 @@ def f():\n"
        " x\n-y\n+z\n w\n\\ No newline at end of file\n"
    )
    new, logo, changed = parse_diff(text)
    assert (new.path, new.notes, new.insertions, new.deletions) == (
        "new.py", ("new file mode 100644",), 2, 0,
    )  # fmt: skip
    assert (logo.path, logo.notes, logo.lines) == ("logo.png", ("binary file",), ())
    kinds = [(ln.kind, ln.old_no, ln.new_no) for ln in changed.lines]
    assert kinds == [("@", None, None), (" ", 3, 3), ("-", 4, None), ("+", None, 4),
                     (" ", 5, 5), ("\\", None, None)]  # fmt: skip


def test_side_by_side_pairs_removed_with_added_lines() -> None:
    (f,) = parse_diff("diff --git a/a b/a\n--- a/a\n+++ b/a\n@@ -1,3 +1,2 @@\n-x\n-y\n+z\n k\n")
    rows = [(a.text if a else None, b.text if b else None) for a, b in _split_rows(f.lines)]
    assert rows == [("@@ -1,3 +1,2 @@", None), ("x", "z"), ("y", None), ("k", "k")]


def test_hunk_context_and_the_simplest_true_resolution() -> None:
    conflict = conflict_file("calc/settings.py", SNAP_SETTINGS)
    first, second = conflict.hunks
    assert hunk_context(conflict.text, first) == (
        ["NAME = 'calc'"],
        ["DEBUG = False", "A = 1", "B = 2"],
    )
    assert hunk_context(conflict.text, second) == (["C = 3", "D = 4", "E = 5"], [])
    res = FileResolution.undecided(conflict)
    res.choose(0, "theirs")
    res.choose(1, "theirs")
    assert resolution_for([res]) == "theirs"
    res.choose(1, "base")
    assert resolution_for([res]) == {"calc/settings.py": res.text()}
    assert "COLOR = 'red'" in res.text() and "VERSION = 3" in res.text()
    with pytest.raises(ValueError, match="conflict markers"):
        res.set_manual(conflict.text)


async def test_a_resolution_tested_red_cannot_be_approved_and_a_green_one_lands(
    tmp_path: Path,
) -> None:
    async with conflict_run(tmp_path, red_when_mixed=True) as run:
        app = host(run)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            screen = screen_of(app)
            await pilot.press("T")  # names.py: theirs
            await pilot.press("right_square_bracket")  # settings.py
            await pilot.press("t", "o")  # the version theirs, the colour ours: a mix
            await pilot.press("g")  # test it as resolved, on the branch as it is
            await settle(pilot)
            assert screen.trial is not None and not screen.trial.passed
            assert "1 failed" in screen.trial.detail
            await pilot.press("a")  # approve: refused at once, the resolution is red
            await settle(pilot)
            assert app.results == [] and not run.of_type(ev.MergeApproved)
            assert any("fails the tests" in n for n in notifications(app))
            await pilot.press("t")  # the colour (still the current hunk): theirs too
            await pilot.press("g")
            await settle(pilot)
            assert screen.trial is not None and screen.trial.passed
            await pilot.press("a")  # approve: through the gate, and it lands
            await settle(pilot)
            assert app.results == ["approved"]
        version, color, _ = SIDES[run.held]
        assert run.show("calc/settings.py") == settings(version, color)


async def test_h_hands_the_conflict_to_the_tasks_agent(tmp_path: Path) -> None:
    async with conflict_run(tmp_path) as run:
        app = host(run)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await pilot.press("h")  # the task's agent resolves it, on the branch as it is
            await settle(pilot)
            assert app.results == ["handed to its agent"]
        assert run.held not in {p.task_id for p in run.orch.merge_queue.waiting}
        fix = run.orch.attempts.fixes[run.held]  # what its next attempt is told
        assert fix.round == 1
        assert "calc/settings.py, conflict 1" in fix.feedback
        assert f"- {run.merged}: " in fix.feedback  # what landed meanwhile, by which task
