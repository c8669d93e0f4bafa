"""LauncherScreen: form validation, the messages it posts, and the history of past runs."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from textual.app import App
from textual.message import Message
from textual.pilot import Pilot
from textual.widgets import DataTable, Static

from maestro_tui.domain import events as ev
from maestro_tui.engine.bus import EventBus
from maestro_tui.store import Store
from maestro_tui.ui.screens.launcher import FormError, LauncherScreen, parse_form
from maestro_tui.ui.theming import BUILTIN_THEMES, load_themes
from maestro_tui.ui.widgets.run_history import RunHistory
from tests.support.snapshots import SnapCompare
from tests.ui.conftest import freeze_cursors, settle

NOW = datetime(2025, 3, 2, 15, 0, tzinfo=UTC)  # "today" for the history's dates
PLAN = {"tasks": [{"id": t, "title": t, "prompt": "p"} for t in ("api", "cli", "docs")]}


def record_run(
    bus: EventBus,
    goal: str,
    outcome: dict[str, type[ev.Event]],
    status: str | None,
    simulated: bool = False,
) -> None:
    """A run whose tasks end as `outcome` says; `status` None: it stops without finishing.

    `simulated`: its model was the demo's, priced at a simulated rate."""
    bus.emit(ev.RunStarted, goal=goal, repo="/src/shop", base_branch="main",
             base_commit="abc", integration_branch="maestro/x", merge_policy="auto",
             max_agents=2)  # fmt: skip
    bus.emit(ev.PlanProposed, plan=PLAN)
    bus.emit(ev.PlanApproved)
    for task, end in outcome.items():
        bus.emit(ev.TaskStarted, task=task, attempt=1, worker="llm")
        bus.emit(ev.LLMUsage, task=task, model="demo", tokens_in=4000, tokens_out=900,
                 cost_usd=0.0125, simulated=simulated)  # fmt: skip
        if end is ev.Merged:
            bus.emit(ev.TaskFinished, task=task, attempt=1, commit="c0ffee")
            bus.emit(ev.Merged, task=task, commit="beef")
        elif end is ev.TaskFailed:
            bus.emit(ev.TaskFailed, task=task, attempt=1, reason="tests failed")
    if status is not None:
        bus.emit(ev.RunFinished, status=status, merged=1, failed=0, waiting=0)


async def fill_store(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Three runs on fixed dates with fixed run clocks: ok yesterday, failed today, interrupted."""
    store = await Store.open(path)
    runs: list[tuple[str, float, str, dict[str, type[ev.Event]], str | None, float]] = [
        ("run-a", NOW.timestamp() - 86400 - 3600, "add a --json flag to report",
         {"api": ev.Merged, "cli": ev.Merged, "docs": ev.Merged}, "succeeded", 95.0),
        ("run-b", NOW.timestamp() - 7200, "speed up the cart totals",
         {"api": ev.Merged, "cli": ev.TaskFailed}, "failed", 412.0),
        ("run-c", NOW.timestamp() - 600, "rename Basket to Cart everywhere",
         {"api": ev.Merged}, None, 3725.0),
    ]  # fmt: skip
    try:
        for run_id, wall, goal, outcome, status, length in runs:
            monkeypatch.setattr(time, "time", lambda wall=wall: wall)
            ticks = iter(range(10**6))

            def clock(t: Iterator[int] = ticks, n: float = length) -> float:
                return next(t) * n / 12

            bus = EventBus(run_id, clock=clock)
            bus.subscribe(store.append)
            record_run(bus, goal, outcome, status, simulated=run_id == "run-a")
            await store.flush()
    finally:
        monkeypatch.undo()
        await store.close()


class LauncherApp(App[None]):
    """Only the launcher, in the maestro-dark theme, with "now" pinned for the dates."""

    def __init__(self, db: Path) -> None:
        super().__init__()
        self.db = db

    def on_mount(self) -> None:
        for theme in load_themes(BUILTIN_THEMES):
            self.register_theme(theme)
        self.theme = "maestro-dark"

    def get_default_screen(self) -> LauncherScreen:
        return LauncherScreen(self.db, Path("/src/shop"), now=NOW, tz=UTC)


@pytest.fixture
async def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Path]:
    path = tmp_path / "maestro.db"
    await fill_store(path, monkeypatch)
    yield path


async def history_loaded(pilot: Pilot[Any]) -> RunHistory:
    """The history, once its worker has read the runs and its rows are drawn."""
    await settle(pilot)
    return pilot.app.screen.query_one(RunHistory)


def posted(messages: list[Message], kind: type[Message]) -> list[Any]:
    """Messages of a kind, once each (the hook sees a message again at each bubbling step)."""
    unique = {id(m): m for m in messages if isinstance(m, kind)}
    return list(unique.values())


def test_parse_form_accepts_a_dollar_sign_and_defaults() -> None:
    assert parse_form(" fix it ", " demo ", "", "") == ("fix it", "demo", 4, None)
    assert parse_form("g", "gpt-4o", "64", "$2.50") == ("g", "gpt-4o", 64, 2.5)
    # maestro.toml names a planner: the field may stay empty; else it is asked for, and the
    # offline demo model is never taken for want of one.
    assert parse_form("g", "", "", "", need_model=False) == ("g", "", 4, None)
    with pytest.raises(FormError, match="Name a model to plan and work with") as info:
        parse_form("g", " ", "", "")
    assert info.value.field == "model"


@pytest.mark.parametrize(
    ("goal", "model", "agents", "budget", "error", "focused"),
    [
        ("", "m", "4", "", "the goal is empty", "goal"),
        ("g", "", "4", "", "Name a model to plan and work with", "model"),
        ("g", "m", "0", "", "Agents must be from 1 to 256, not 0", "agents"),
        ("g", "m", "257", "", "Agents must be from 1 to 256, not 257", "agents"),
        ("g", "m", "4", "-1", "Budget must be more than $0", "budget"),
        ("g", "m", "4", "lots", "Budget must be an amount in dollars", "budget"),
    ],
)
async def test_an_invalid_form_shows_why_and_posts_nothing(
    db: Path, goal: str, model: str, agents: str, budget: str, error: str, focused: str
) -> None:
    messages: list[Message] = []
    app = LauncherApp(db)
    async with app.run_test(message_hook=messages.append) as pilot:
        await history_loaded(pilot)
        screen = app.screen
        await pilot.click("#goal")
        await pilot.press(*goal)  # type the goal
        screen.query_one("#model").value = model  # type: ignore[attr-defined]
        screen.query_one("#agents").value = agents  # type: ignore[attr-defined]
        screen.query_one("#budget").value = budget  # type: ignore[attr-defined]
        await pilot.click("#start")  # press Start
        shown = screen.query_one("#form-error", Static)
        assert error in str(shown.render()) and shown.display
        assert app.focused is screen.query_one(f"#{focused}")
        assert screen.query_one(f"#{focused}").has_class("-invalid")
        assert posted(messages, LauncherScreen.StartRun) == []


async def test_a_valid_form_posts_start_run(db: Path) -> None:
    messages: list[Message] = []
    app = LauncherApp(db)
    async with app.run_test(message_hook=messages.append) as pilot:
        await history_loaded(pilot)
        await pilot.press(*"add tests")  # the goal input has focus: type the goal
        await pilot.press("tab", *"gpt-4o-mini")  # to model (empty: nothing configured)
        await pilot.press("tab", "backspace", "8")  # agents: 8
        await pilot.press("tab", *"1.5")  # budget: $1.50
        await pilot.press("enter")  # submit from the budget field
        (start,) = posted(messages, LauncherScreen.StartRun)
        assert (start.goal, start.model, start.agents, start.budget_usd) == (
            "add tests", "gpt-4o-mini", 8, 1.5,
        )  # fmt: skip
        assert not app.screen.query_one("#form-error").display


async def test_history_lists_runs_newest_first_and_opens_or_resumes_them(db: Path) -> None:
    messages: list[Message] = []
    app = LauncherApp(db)
    async with app.run_test(size=(140, 30), message_hook=messages.append) as pilot:
        history = await history_loaded(pilot)
        table = history.query_one(DataTable)
        goals = [table.get_row_at(n)[0] for n in range(table.row_count)]
        # cut to make room for the status: "stopped — resumable" in full
        assert goals == ["rename Basket to Cart ever…", "speed up the cart totals",
                         "add a --json flag to report"]  # fmt: skip
        assert [str(c) for c in table.get_row_at(2)[1:4]] == ["yesterday 14:00", "1m58s", "3 / 0"]
        assert [str(table.get_row_at(n)[5]) for n in range(3)] == [
            "$0.01", "$0.03", "$0.04 sim",  # the demo model's prices are not real
        ]  # fmt: skip
        table.focus()
        await pilot.press("u")  # resume the interrupted run on the first row
        await pilot.press("enter")  # replay it
        await pilot.press("down", "r")  # replay the failed run
        await pilot.press("u")  # a failed run cannot be resumed: nothing posted
        await pilot.pause()
        assert [m.run_id for m in posted(messages, LauncherScreen.ResumeRun)] == ["run-c"]
        assert [m.run_id for m in posted(messages, LauncherScreen.OpenReplay)] == [
            "run-c", "run-b",
        ]  # fmt: skip


async def test_no_runs_shows_how_to_start_one(tmp_path: Path) -> None:
    app = LauncherApp(tmp_path / "empty.db")
    async with app.run_test() as pilot:
        history = await history_loaded(pilot)
        assert history.has_class("-empty")
        assert "No runs yet" in str(history.query_one("#history-empty", Static).render())


def test_launcher_snapshot(snap_compare: SnapCompare, db: Path) -> None:
    """You should see the "start" form (goal, an empty model field whose grey hint reads
    "none set: e.g. openai/gpt-4o", agents 4, empty budget, Start) on the left and three
    past runs on the right, newest first: the rename that never finished (today 14:50, 31m02s,
    "stopped — resumable" in yellow: no process drives it), the failed cart speed-up (today
    13:00, 1 / 1, red) and yesterday's succeeded --json flag (3 / 0, 14.7k tokens, green), its cost
    "$0.04 sim" with "sim" in italic yellow: the demo model's simulated prices. Every column,
    status included, fits."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await history_loaded(pilot)
        # The goal field has focus and its cursor blinks every 0.5 s: on a busy machine the
        # picture was taken in the off half of the cycle now and then. Freeze it, shown.
        freeze_cursors(pilot.app)

    assert snap_compare(LauncherApp(db), terminal_size=(150, 30), run_before=run_before)


async def test_an_mcp_session_shows_its_kind_replays_and_is_not_resumed(tmp_path: Path) -> None:
    path = tmp_path / "maestro.db"
    store = await Store.open(path)
    bus = EventBus("mcp-1")
    bus.subscribe(store.append)
    bus.emit(ev.RunStarted, goal="MCP session of claude-code", repo="/src/shop",
             base_branch="main", base_commit="abc", integration_branch="", merge_policy="",
             max_agents=1, kind="mcp")  # fmt: skip
    bus.emit(ev.PlanProposed, plan={"tasks": [{"id": "analyze", "prompt": "p"}]})
    bus.emit(ev.TaskStarted, task="analyze", attempt=1, worker="mcp")
    await store.close()  # never finished: "running", which a run of kind "run" could resume
    messages: list[Message] = []
    app = LauncherApp(path)
    async with app.run_test(size=(140, 30), message_hook=messages.append) as pilot:
        table = (await history_loaded(pilot)).query_one(DataTable)
        assert table.get_row_at(0)[0] == "mcp · MCP session of claud…"
        table.focus()
        await pilot.press("u")  # nothing to resume in a session: a notice, nothing posted
        await pilot.press("enter")  # replay it
        await pilot.pause()
        assert posted(messages, LauncherScreen.ResumeRun) == []
        assert [m.run_id for m in posted(messages, LauncherScreen.OpenReplay)] == ["mcp-1"]
