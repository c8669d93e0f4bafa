"""maestro-tui's own warnings reach the screen: inside the TUI, stderr is Textual's."""

from __future__ import annotations

import asyncio
import logging

import pytest
from textual.screen import Screen
from textual.widgets import Static

from maestro_tui import watch
from maestro_tui.ui.app import MaestroApp
from maestro_tui.ui.notices import NoticeHandler
from tests.ui.conftest import notifications


class Blank(Screen[None]):
    def compose(self):  # type: ignore[no-untyped-def]
        yield Static("nothing here")


def handlers() -> list[logging.Handler]:
    return [h for h in logging.getLogger("maestro_tui").handlers if isinstance(h, NoticeHandler)]


async def test_the_watchers_polling_warning_is_a_notification(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(watch, "_said_polling", False)
    app = MaestroApp(Blank, watch_themes=False)
    async with app.run_test() as pilot:
        watch._say_polling_once()  # what a watcher says when inotify is used up
        await asyncio.to_thread(logging.getLogger("maestro_tui.ui").error, "from a thread")
        await pilot.pause()
        shown = notifications(app)
        assert any("max_user_instances=1024" in text for text in shown), shown
        assert "from a thread" in shown
        severities = {n.message: n.severity for n in app._notifications}
        assert severities["from a thread"] == "error"
    assert handlers() == []  # gone with the app: nothing left to call a closed app
