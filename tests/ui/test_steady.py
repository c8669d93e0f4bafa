"""update_steady: a Static keeps the height of what it shows, re-laid out only when needed."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.widgets import Static

from maestro_tui.ui.widgets.steady import update_steady


class OneStatic(App[None]):
    CSS = "Static { height: auto; width: 20; }"

    def compose(self) -> ComposeResult:
        yield Static("one\ntwo", id="text")


async def test_the_height_follows_the_content_and_same_height_skips_the_layout() -> None:
    app = OneStatic()
    async with app.run_test(size=(40, 10)) as pilot:
        static = app.query_one("#text", Static)
        await pilot.pause()
        assert static.size.height == 2
        layouts = static._layout_updates
        update_steady(static, "three\nfour")  # same height: redrawn, not laid out
        assert static._layout_updates == layouts
        await pilot.pause()
        assert static.size.height == 2 and "three" in str(static.render())
        update_steady(static, "a\nb\nc")  # taller: laid out
        await pilot.pause()
        assert static.size.height == 3
        update_steady(static, "a line much too long for twenty columns")  # wraps: two lines
        await pilot.pause()
        assert static.size.height == 2
