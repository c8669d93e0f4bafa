"""Modals, the command palette and the budget control, on a dashboard that runs nothing."""

from __future__ import annotations

from typing import Any

from textual.app import App, ComposeResult
from textual.widgets import Input

from maestro_tui.ui.screens.modals import ConfirmModal, NumberModal, TextModal
from tests.ui.conftest import dashboard_app, notifications, screen_text, settle, shown
from tests.ui.sample_run import middle_events, sample_session


class Host(App[None]):
    """Pushes one modal and keeps what it dismissed with."""

    def __init__(self, modal: Any) -> None:
        super().__init__()
        self.modal = modal
        self.results: list[Any] = []

    def compose(self) -> ComposeResult:
        return iter(())

    def on_mount(self) -> None:
        self.push_screen(self.modal, self.results.append)


async def test_confirm_answers_from_the_keyboard() -> None:
    for key, answer in (("y", True), ("n", False), ("escape", False)):
        app = Host(ConfirmModal("Really?"))
        async with app.run_test() as pilot:
            await pilot.press(key)  # answer
        assert app.results == [answer]


async def test_number_modal_refuses_too_small_then_accepts() -> None:
    app = Host(NumberModal("New budget", value=2.0, minimum=1.5))
    async with app.run_test() as pilot:
        app.screen.query_one(Input).value = "1"
        await pilot.press("enter")  # too small: an error, no answer
        assert app.results == []
        assert "must be at least 1.5" in screen_text(app)
        app.screen.query_one(Input).value = "3.25"
        await pilot.press("enter")  # a good value
    assert app.results == [3.25]


async def test_text_modal_escape_backs_out() -> None:
    app = Host(TextModal("Why?", optional=False))
    async with app.run_test() as pilot:
        await pilot.press("enter")  # empty is not allowed
        assert app.results == []
        await pilot.press("escape")  # back out
    assert app.results == [None]


async def test_raise_budget_asks_for_a_number_and_calls_the_engine() -> None:
    session, bus, clock = sample_session()
    raised: list[tuple[str, float]] = []
    session.orch.raise_budget = lambda kind, value: raised.append((kind, value))  # type: ignore[attr-defined]
    app = dashboard_app(session, start=False)
    async with app.run_test(size=(160, 48)) as pilot:
        middle_events(bus, clock)
        await shown(pilot)
        await pilot.press("b")  # raise the budget
        await pilot.pause()
        assert isinstance(app.screen, NumberModal)
        app.screen.query_one(Input).value = "2"
        await pilot.press("enter")  # two dollars
        await pilot.pause()
    assert raised == [("usd", 2.0)]


def test_the_palette_is_built_from_the_screens_bindings() -> None:
    from textual.binding import Binding

    from maestro_tui.ui.palette import screen_commands
    from maestro_tui.ui.screens.run import RunScreen

    screen = RunScreen.__new__(RunScreen)
    offered = {action: (name, help_text) for name, help_text, action in screen_commands(screen)}
    shown = {b.action for b in Binding.make_bindings(RunScreen.BINDINGS) if b.show}
    assert shown <= set(offered)  # every key of the footer can be found by name
    assert offered["toggle_pause"][0] == "Pause / continue dispatch"
    assert offered["toggle_pause"][1].endswith("(p)")  # the help names the key
    assert "show_agent(0)" in offered and "show_agent(1)" not in offered


async def test_palette_offers_the_dashboard_commands() -> None:
    session, _, _ = sample_session()
    app = dashboard_app(session, start=False)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.press("ctrl+p")  # open the command palette
        await pilot.press(*"pause")  # search
        await settle(pilot)  # the palette's search worker
        assert "Pause / continue dispatch" in screen_text(app)
        await pilot.press("enter")  # run it
        await pilot.pause()
    # Nothing runs in this test, so the dashboard says it cannot pause.
    assert any("cannot pause" in n for n in notifications(app))


async def test_question_mark_shows_the_dashboards_keys_first_grouped() -> None:
    from maestro_tui.ui.widgets.keys_panel import KeysPanel, KeysTable

    session, _, _ = sample_session()
    app = dashboard_app(session, start=False)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        assert app.focused is not None and app.focused.id == "graph"  # the task list
        await pilot.press("question_mark")  # show every key
        await pilot.pause()
        assert app.screen.query(KeysPanel)
        lines = app.screen.query_one(KeysTable).plain().splitlines()
        # The dashboard's own keys first, + and - on one row, the ten log keys on another…
        assert lines[:14] == [
            "[dashboard]", "p  pause", "x  cancel", "s  say", "!  shell", "+ -  agents",
            "b  budget", "m  merges", "n  needs you", "f  rerun from", "r  re-plan", "?  keys",
            "q  quit", "0–9  logs: 0 all agents, 1–9 the Nth running one",
        ]  # fmt: skip
        # …then the focused task list's keys, its twelve moves on one row, then the rest.
        task_list = lines.index("[task list]")
        assert lines[task_list + 1 : task_list + 3] == [
            "⏎  Select", "↑↓←→  move · home end pgup pgdn ^pgup ^pgdn ^home ^end",
        ]  # fmt: skip
        assert lines[task_list + 3] == "[everywhere]" and "^p  palette" in lines
        assert "needs you" in screen_text(app)
        await pilot.press("question_mark")  # hide it again
        await pilot.pause()
        assert not app.screen.query(KeysPanel)


async def test_quit_when_nothing_runs_closes_the_session_without_asking() -> None:
    session, _, _ = sample_session()
    app = dashboard_app(session, start=False)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.press("q")  # quit
        await pilot.pause()
    assert session.closed
