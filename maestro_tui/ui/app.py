"""MaestroApp: wiring only — themes, the command palette, the first screen, quitting."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from textual.app import App
from textual.screen import Screen

import maestro_tui
from maestro_tui.ui.commands import DashboardCommands

PACKAGE_DIR = Path(maestro_tui.__file__).parent
THEME_FOLDERS = (PACKAGE_DIR.parent / "themes", PACKAGE_DIR / "themes")
DEFAULT_THEME = "maestro-dark"  # used when its file is found; Textual's own theme otherwise


class MaestroApp(App[int]):
    """The terminal mission-control; what it shows first is given by the entry point."""

    TITLE = "maestro-tui"
    CSS_PATH = Path(__file__).with_name("app.tcss")  # absolute: subclasses live elsewhere
    COMMANDS = App.COMMANDS | {DashboardCommands}

    def __init__(
        self,
        first_screen: Callable[[], Screen],
        *,
        watch_themes: bool = True,
        theme: str | None = DEFAULT_THEME,
    ) -> None:
        super().__init__()
        self._first_screen = first_screen
        self._watch_themes = watch_themes
        self._theme_folders = self._load_themes()
        if theme in self.available_themes:
            self.theme = theme  # before the first frame, so nothing flashes

    def get_default_screen(self) -> Screen:
        return self._first_screen()

    def on_mount(self) -> None:
        if not self._watch_themes:
            return
        from maestro_tui.ui.themes import watch_themes

        for folder in self._theme_folders:
            self.run_worker(
                watch_themes(self, folder),
                group=f"themes:{folder}",
                exclusive=True,
                exit_on_error=False,
            )

    def _load_themes(self) -> list[Path]:
        """Register the themes of themes/*.toml (if the themes module is there); their folders."""
        try:
            from maestro_tui.ui.themes import load_themes
        except ImportError:
            return []
        folders = [folder for folder in THEME_FOLDERS if folder.is_dir()]
        for folder in folders:
            for theme in load_themes(folder):
                self.register_theme(theme)
        return folders

    async def action_quit(self) -> None:
        """Ctrl+Q and the palette's Quit go through the run's screen, so a run stops cleanly."""
        for screen in reversed(self.screen_stack):
            quit_run = getattr(screen, "action_quit", None)
            if quit_run is not None and hasattr(screen, "run_active"):
                quit_run()
                return
        self.exit(0, return_code=0)
