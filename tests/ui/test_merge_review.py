"""MergeReviewScreen against a real run: a held conflicting merge, decided from the keyboard.

Every approval is checked in git (the integration branch has the chosen side, no markers),
in the events (MergeApproved, Merged) and in the run's state.
"""

from __future__ import annotations

from pathlib import Path

from maestro_tui.domain import events as ev
from maestro_tui.domain.state import TaskStatus
from maestro_tui.ui.screens.merge_review import MergeReviewScreen
from tests.ui.conftest_review import (
    SIDES,
    ConflictRun,
    ReviewHost,
    conflict_run,
    names,
    settings,
    settle,
)

SIZE = (160, 48)


def host(run: ConflictRun) -> ReviewHost:
    return ReviewHost(lambda: MergeReviewScreen(run.orch, run.held))


def screen_of(app: ReviewHost) -> MergeReviewScreen:
    assert isinstance(app.screen, MergeReviewScreen)
    return app.screen


def merged_text(run: ConflictRun, ours: str, theirs: str) -> tuple[int, str, str]:
    """(version, colour, greeting) of each side: ours is the merged task, theirs the held one."""
    return SIDES[ours], SIDES[theirs]  # type: ignore[return-value]


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
