"""Themes from TOML files: load them into Textual `Theme`s and reload them while the app runs.

One theme per file (`themes/<name>.toml`)::

    name = "maestro-dark"        # optional: defaults to the file name
    dark = true
    [colors]                     # primary is required; any of the others may be left out
    primary = "#5fa8ff"
    success = "#4ade80"
    [variables]                  # optional Textual CSS variables, e.g. "footer-key-foreground"
    "block-cursor-foreground" = "#11151c"

Where the themes live: the built-in ones in the top-level `themes/` folder (shipped in the
wheel as `maestro_tui/themes/`); a user's own go in `user_theme_folder()`
(`~/.config/maestro-tui/themes` on Linux), loaded after the built-ins so a file of the same
name overrides one. Both folders are watched, so an edit shows at once.

Start the reloader from the app with one line:
`app.run_worker(watch_themes(app, folder), exclusive=True, group="themes")`.
"""

from __future__ import annotations

import logging
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual.app import App
from textual.color import Color, ColorParseError
from textual.theme import Theme
from watchfiles import Change, awatch

# The built-in themes: maestro_tui/themes/ in the wheel (setup.py maps them there), else the
# top-level themes/ folder of a source checkout, their single home.
_PACKAGED_THEMES = Path(__file__).parents[1] / "themes"
BUILTIN_THEMES = (
    _PACKAGED_THEMES if _PACKAGED_THEMES.is_dir() else Path(__file__).parents[2] / "themes"
)
COLORS = (
    "primary", "secondary", "accent", "foreground", "background", "surface", "panel", "boost",
    "success", "warning", "error",
)  # fmt: skip
TOP_KEYS = frozenset({"name", "dark", "colors", "variables"})
DEBOUNCE_MS = 50
IDLE_WAKE_MS = 200

log = logging.getLogger(__name__)


class ThemeError(ValueError):
    """A theme file cannot be used; the message names the file and the key."""


def user_theme_folder() -> Path:
    """Where a user keeps themes of their own (it may not exist)."""
    from platformdirs import user_config_path

    return user_config_path("maestro-tui") / "themes"


def theme_folders() -> list[Path]:
    """The built-in themes, then the user's own when that folder exists."""
    user = user_theme_folder()
    return [BUILTIN_THEMES, *([user] if user.is_dir() else [])]


def _colour(path: Path, key: str, value: Any) -> str:
    if not isinstance(value, str):
        raise ThemeError(f"{path.name}: {key} must be a colour string, not {value!r}")
    try:
        Color.parse(value)
    except ColorParseError:
        raise ThemeError(f"{path.name}: {key} = {value!r} is not a colour") from None
    return value


def load_theme(path: Path) -> Theme:
    """One theme from a TOML file; any problem is a ThemeError naming the file and key."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ThemeError(f"{path.name}: cannot be read: {exc.strerror or exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ThemeError(f"{path.name}: not valid TOML: {exc}") from exc
    unknown = sorted(set(data) - TOP_KEYS)
    if unknown:
        raise ThemeError(
            f"{path.name}: unknown key {unknown[0]!r} (known: name, dark, colors, variables)"
        )
    name = data.get("name", path.stem)
    if not isinstance(name, str) or not name.strip():
        raise ThemeError(f"{path.name}: name must be a non-empty string")
    dark = data.get("dark", True)
    if not isinstance(dark, bool):
        raise ThemeError(f"{path.name}: dark must be true or false, not {dark!r}")
    colors = data.get("colors", {})
    if not isinstance(colors, dict):
        raise ThemeError(f"{path.name}: colors must be a table ([colors])")
    for key in colors:
        if key not in COLORS:
            raise ThemeError(
                f"{path.name}: colors.{key} is not a theme colour (known: {', '.join(COLORS)})"
            )
    if "primary" not in colors:
        raise ThemeError(f"{path.name}: colors.primary is missing (every theme needs one)")
    values: dict[str, Any] = {k: _colour(path, f"colors.{k}", v) for k, v in colors.items()}
    variables = data.get("variables", {})
    if not isinstance(variables, dict):
        raise ThemeError(f"{path.name}: variables must be a table ([variables])")
    for key, value in variables.items():
        if not isinstance(value, str):
            raise ThemeError(f"{path.name}: variables.{key} must be a string, not {value!r}")
    return Theme(name=name.strip(), dark=dark, variables=dict(variables), **values)


def load_themes(
    folder: Path | None = None, on_error: Callable[[ThemeError], None] | None = None
) -> list[Theme]:
    """Every `*.toml` theme in `folder` (default: the built-in ones), in file-name order.

    A bad file is passed to `on_error` (default: logged) and skipped; the others still load.
    """
    folder = BUILTIN_THEMES if folder is None else folder
    report = on_error or (lambda error: log.warning("%s", error))
    themes = []
    for path in sorted(folder.glob("*.toml")):
        try:
            themes.append(load_theme(path))
        except ThemeError as error:
            report(error)
    return themes


def _is_theme_file(change: Change, path: str) -> bool:
    return path.endswith(".toml")


async def watch_themes(
    app: App[Any],
    folder: Path | None = None,
    *,
    on_reload: Callable[[Theme], None] | None = None,
    on_error: Callable[[ThemeError], None] | None = None,
    on_ready: Callable[[], None] | None = None,
) -> None:
    """Re-register each theme file of `folder` when it changes; re-apply it if it is current.

    Runs until cancelled: start it in an exclusive worker (see the module docstring). A bad
    edit is reported through `on_error` (default: a notification) and the old theme stays.
    `on_ready` is called once the watches are in place.
    """
    folder = BUILTIN_THEMES if folder is None else folder

    def notify(error: ThemeError) -> None:
        app.notify(str(error), title="theme not loaded", severity="error")

    report = on_error or notify
    ready = on_ready
    async for changes in awatch(
        folder,
        watch_filter=_is_theme_file,
        debounce=DEBOUNCE_MS,
        rust_timeout=IDLE_WAKE_MS,
        yield_on_timeout=True,  # an empty batch now and then: the first one means "ready"
    ):
        if ready is not None:
            ready()
            ready = None
        for path in sorted({Path(p) for change, p in changes if change != Change.deleted}):
            if not path.is_file():
                continue
            try:
                theme = load_theme(path)
            except ThemeError as error:
                report(error)
                continue
            app.register_theme(theme)
            if app.theme == theme.name:
                app.mutate_reactive(App.theme)  # same name, new colours: apply them again
            if on_reload is not None:
                on_reload(theme)
