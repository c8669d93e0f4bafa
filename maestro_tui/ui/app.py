"""MaestroApp: wiring only — themes, the command palette, the first screen, quitting."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual.app import App
from textual.screen import Screen

from maestro_tui.process.malloc import fewer_collections
from maestro_tui.ui.notices import show_warnings, stop_showing
from maestro_tui.ui.palette import ScreenKeysProvider
from maestro_tui.ui.theming import load_themes, theme_folders, watch_themes

DEFAULT_THEME = "maestro-dark"  # used when its file is found; Textual's own theme otherwise


class MaestroApp(App[int]):
    """The terminal mission-control; what it shows first is given by the entry point."""

    TITLE = "maestro-tui"
    CSS_PATH = Path(__file__).with_name("app.tcss")  # absolute: subclasses live elsewhere
    COMMANDS = App.COMMANDS | {ScreenKeysProvider}

    def __init__(
        self,
        first_screen: Callable[[], Screen[Any]],
        *,
        watch_themes: bool = True,
        theme: str | None = DEFAULT_THEME,
    ) -> None:
        super().__init__()
        fewer_collections()  # a dashboard over 200 agents allocates fast: keys wait on pauses
        self._first_screen = first_screen
        self._watch_themes = watch_themes
        self._theme_folders = self._load_themes()
        if theme in self.available_themes:
            self.theme = theme  # before the first frame, so nothing flashes

    def get_default_screen(self) -> Screen[Any]:
        return self._first_screen()

    def on_mount(self) -> None:
        self._notices = show_warnings(self)
        if not self._watch_themes:
            return
        for folder in self._theme_folders:
            self.run_worker(
                watch_themes(self, folder),
                group=f"themes:{folder}",
                exclusive=True,
                exit_on_error=False,
            )

    def on_unmount(self) -> None:
        stop_showing(self._notices)

    def _load_themes(self) -> list[Path]:
        """Register the built-in themes and the user's own; returns their folders."""
        folders = theme_folders()
        for folder in folders:
            for theme in load_themes(folder):
                self.register_theme(theme)
        return folders

    async def action_quit(self) -> None:
        """Ctrl+Q and the palette's Quit go through the run's screen, so a run stops cleanly
        (or through the planning screen: planning stops, and nothing is recorded)."""
        from maestro_tui.ui.screens.planning import PlanningScreen
        from maestro_tui.ui.screens.run import RunScreen

        for screen in reversed(self.screen_stack):
            if isinstance(screen, RunScreen):
                screen.action_quit()
                return
            if isinstance(screen, PlanningScreen):
                await screen.action_cancel()
                return
        self.exit(0, return_code=0)
