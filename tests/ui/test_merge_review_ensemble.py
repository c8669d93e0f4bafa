"""MergeReviewScreen on an ensemble: the candidates side by side, and the human's pick by key.

The real run's result is checked in git (the integration branch has the picked candidate's
code) and in the events (CandidateSelected with method "human", then Merged).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from maestro_tui.domain import events as ev
from maestro_tui.domain.state import TaskStatus
from maestro_tui.ui.screens.merge_review import MergeReviewScreen
from maestro_tui.ui.widgets.candidates import CandidateExtra, CandidatesPane, render_candidates
from tests.support.review_runs import (
    OrchestratorTarget,
    ReviewHost,
    fake_ensemble_review,
    fake_review,
)
from tests.support.snapshots import SnapCompare
from tests.ui.conftest import screen_text, settle
from tests.ui.ensemble_runs import ensemble_run

SIZE = (160, 48)


async def test_pick_another_candidate_by_key_then_approve(tmp_path: Path) -> None:
    async with ensemble_run(tmp_path) as run:
        task = run.orch.state.tasks["t"]
        assert task.status is TaskStatus.WAITING and task.chosen_candidate == 3
        app = ReviewHost(lambda: MergeReviewScreen(OrchestratorTarget(run.orch), "t"))
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            text = screen_text(app)
            assert "[3] candidate 3 ★ chosen" in text
            assert "return b + a" in text  # the chosen candidate's diff
            await pilot.press("1")  # candidate 1 failed its tests: it has a result all the same
            await settle(pilot)
            assert run.orch.state.tasks["t"].chosen_candidate == 1
            await pilot.press("2")  # no, the long-winded but correct one
            await settle(pilot)
            text = screen_text(app)
            assert "[2] candidate 2 ★ chosen" in text
            assert "total = total + b" in text  # its diff was reloaded
            await pilot.press("a")  # approve
            await settle(pilot)
            assert app.results == ["approved"]
        assert "total = total + b" in run.show("calc/ops.py")
        picks = [(e.candidate, e.method) for e in run.events if isinstance(e, ev.CandidateSelected)]
        assert picks == [(3, "tests_first"), (1, "human"), (2, "human")]
        merged = [e for e in run.events if isinstance(e, ev.Merged)]
        assert [e.task for e in merged] == ["t"]
        assert run.orch.state.tasks["t"].status is TaskStatus.MERGED


async def test_picking_the_chosen_or_a_missing_candidate_changes_nothing() -> None:
    review = fake_ensemble_review()
    app = ReviewHost(lambda: MergeReviewScreen(review, "version-three"))
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        await pilot.press("3")  # already the chosen one: a notice, no call
        assert review.merges.calls == []
        await pilot.press("2")  # another: the engine is asked
        await settle(pilot)
        assert review.merges.calls == [("pick", 2)]


async def test_a_single_agent_task_has_no_candidates_pane_and_no_pick_keys() -> None:
    review = fake_review()
    app = ReviewHost(lambda: MergeReviewScreen(review, "version-three"))
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        assert not app.screen.query_one(CandidatesPane).display
        await pilot.press("1")  # nothing to pick: the key does nothing
        assert review.merges.calls == []
        assert "Pick candidate" not in screen_text(app)


def test_candidate_columns_show_tests_lines_model_and_the_pick() -> None:
    task = fake_ensemble_review().state.tasks["version-three"]
    extras = {1: CandidateExtra(n_passed=3, n_failed=1, model="demo/a")}
    table = render_candidates(task, extras)
    headers = [str(c.header) for c in table.columns]
    assert headers == ["[1] candidate 1", "[2] candidate 2", "[3] candidate 3 ★ chosen"]
    cells = [[str(cell) for cell in c._cells] for c in table.columns]
    assert cells[0] == ["✗ 3 passed, 1 failed", "2 lines changed", "demo/a"]
    assert cells[2] == ["✓", "4 lines changed", ""]


def test_snapshot_merge_review_with_candidates(snap_compare: SnapCompare) -> None:
    """You should see, above the diff, a "candidates · 1-3 to pick" pane with three columns:
    1 failing tests (✗) with 2 lines, 2 passing with 9 lines, 3 passing with 4 lines marked
    "★ chosen"; below, candidate 3's diff; no conflicts (o/t/b/e/d shown disabled)."""

    async def loaded(pilot: Pilot[Any]) -> None:
        await settle(pilot)

    app = ReviewHost(lambda: MergeReviewScreen(fake_ensemble_review(), "version-three"))
    assert snap_compare(app, terminal_size=(140, 40), run_before=loaded)
