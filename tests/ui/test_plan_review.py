"""PlanReviewScreen: edit a plan from the keyboard, validated after every edit."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import OptionList, Static, TextArea

from maestro_tui.domain.plan import Plan, Task
from maestro_tui.ui.screens.modals import ConfirmModal
from maestro_tui.ui.screens.plan_review import PlanReviewScreen, PromptEditor, TaskPicker
from maestro_tui.ui.widgets.plan_table import PlanTable
from tests.support.review_runs import ReviewHost
from tests.support.snapshots import SnapCompare
from tests.ui.conftest import notifications

SIZE = (160, 48)

PLAN = Plan(
    goal="a paginated API",
    tasks=(
        Task("models", "Add the models", "Write the Item model.", files=("app/models.py",)),
        Task("api", "Add the API", "Serve items.", depends_on=("models",),
             files=("app/api.py",)),
        Task("docs", "Document the API", "Explain /items.", role="doc_writer",
             depends_on=("api",)),
        Task("tests", "Test the API", "Cover /items.", role="tester", depends_on=("api",)),
    ),
)  # fmt: skip


def host(plan: Plan, tmp_path: Path) -> ReviewHost:
    return ReviewHost(lambda: PlanReviewScreen(plan, tmp_path))


def status_text(app: ReviewHost) -> str:
    return str(app.screen.query_one("#plan-problems", Static).content)


def ids(plan: Plan) -> list[str]:
    return [t.id for t in plan.tasks]


async def test_edit_cycle_remove_delete_then_approve(tmp_path: Path) -> None:
    app = host(PLAN, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, PlanReviewScreen)
        assert "Ready: 4 task(s) in 3 layer(s)" in status_text(app)

        await pilot.press("down", "down")  # select "docs"
        assert screen.query_one(PlanTable).selected_id == "docs"
        await pilot.press("e")  # edit its prompt
        assert isinstance(app.screen, PromptEditor)
        assert app.screen.query_one(TextArea).text == "Explain /items."
        await pilot.press("end", *" Include paging.")  # type at the end of the line
        await pilot.press("ctrl+s")  # keep the new prompt
        assert screen.plan.by_id["docs"].prompt == "Explain /items. Include paging."
        assert "Include paging." in str(screen.query_one("#plan-prompt", Static).content)

        await pilot.press("up", "up")  # select "models"
        await pilot.press("plus")  # add a dependency
        assert isinstance(app.screen, TaskPicker)
        options = app.screen.query_one(OptionList)
        picked = [options.get_option_at_index(i).id for i in range(options.option_count)]
        assert picked == ["api", "docs", "tests"]
        await pilot.press("down", "enter")  # models depends on docs: a cycle
        assert screen.plan.by_id["models"].depends_on == ("docs",)
        assert "dependency cycle: " in status_text(app)
        cycle = next(p for p in screen.problems if p.startswith("dependency cycle"))
        assert set(cycle.removeprefix("dependency cycle: ").split(" -> ")) == {
            "models", "docs", "api",
        }  # fmt: skip
        await pilot.press("a")  # approve: refused while the plan has a cycle
        assert app.results == []
        assert any("dependency cycle" in m for m in notifications(app))

        await pilot.press("minus")  # remove a dependency of "models"
        await pilot.press("enter")  # the only one: docs
        assert not screen.plan.by_id["models"].depends_on  # none left
        assert screen.problems == [] and "Ready" in status_text(app)

        await pilot.press("down")  # select "api"
        await pilot.press("d")  # delete it
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("n")  # no: keep it
        assert ids(screen.plan) == ["models", "api", "docs", "tests"]
        await pilot.press("d", "y")  # delete it, yes
        assert ids(screen.plan) == ["models", "docs", "tests"]

        await pilot.press("enter")  # approve
        await pilot.pause()
    (approved,) = app.results
    assert isinstance(approved, Plan)
    assert approved.goal == PLAN.goal and ids(approved) == ["models", "docs", "tests"]
    assert [t.depends_on for t in approved.tasks] == [(), (), ()]  # dependents lost "api"
    assert approved.by_id["docs"].prompt == "Explain /items. Include paging."
    assert PLAN.by_id["docs"].prompt == "Explain /items."  # the original is untouched


async def test_escape_goes_back_without_a_plan(tmp_path: Path) -> None:
    app = host(PLAN, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("e")  # open the prompt editor
        await pilot.press("escape")  # cancel the edit
        assert isinstance(app.screen, PlanReviewScreen) and app.screen.edits == []
        await pilot.press("escape")  # leave the review
        await pilot.pause()
    assert app.results == [None]


async def test_an_invalid_plan_names_its_problems(tmp_path: Path) -> None:
    bad = Plan(goal="g", tasks=(Task("x", "X", "", depends_on=("ghost",), files=("../etc",)),))
    app = host(bad, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter")  # approve: refused
        text = status_text(app)
        assert "empty prompt" in text and "unknown dependency 'ghost'" in text
        assert "outside the repository" in text
        await pilot.press("d", "y")  # delete the only task
        assert "the plan has no tasks" in status_text(app)
    assert app.results == []


async def test_overlaps_are_shown_and_an_added_order_can_be_removed(tmp_path: Path) -> None:
    from maestro_tui.domain.overlaps import serialize_overlaps

    both = Plan(
        goal="g",
        tasks=(
            Task("hints", "Hints", "Type hints.", files=("app/models.py",)),
            Task("guard", "Guard", "Reject bad input.", files=("app/models.py",)),
            Task("check", "Check", "Review.", role="reviewer", files=("app/models.py",)),
        ),
    )
    app = host(serialize_overlaps(both), tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, PlanReviewScreen)
        assert "guard runs after hints: both name app/models.py" in status_text(app)
        assert "Ready: 3 task(s) in 2 layer(s)" in status_text(app)
        await pilot.press("down")  # select "guard"
        await pilot.press("minus", "enter")  # remove what it waits for: hints, the only one
        assert screen.plan.by_id["guard"].after == ()
        assert "guard no longer runs after hints" in status_text(app)
        assert "hints and guard may conflict: both name app/models.py" in status_text(app)


def test_snapshot_plan_review(snap_compare: SnapCompare, tmp_path: Path) -> None:
    """You should see four tasks in a table (models marked ✘ with docs and api), the prompt of
    models, and a status panel naming the cycle models -> docs -> api -> models."""
    cyclic = Plan(
        goal=PLAN.goal,
        tasks=tuple(
            Task(t.id, t.title, t.prompt, t.role, t.files, ("docs",)) if t.id == "models" else t
            for t in PLAN.tasks
        ),
    )
    assert snap_compare(host(cyclic, Path("/nonexistent-root")), terminal_size=(140, 32))
