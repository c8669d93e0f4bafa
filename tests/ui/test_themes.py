"""Themes: the shipped files load, bad files are named with their key, edits reload live."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from textual.app import App, ComposeResult
from textual.color import Color
from textual.theme import Theme
from textual.widgets import Static

from maestro_tui.ui.theming import (
    BUILTIN_THEMES,
    ThemeError,
    load_theme,
    load_themes,
    theme_folders,
    user_theme_folder,
    watch_themes,
)

WAIT_S = 10.0  # an upper bound for one awaited reload, not a sleep
GOOD = """
name = "tide"
dark = false
[colors]
primary = "#1d4ed8"
success = "#15803d"
error = "#b91c1c"
[variables]
"footer-key-foreground" = "#1d4ed8"
"""


def contrast(a: str, b: str) -> float:
    """WCAG contrast ratio between two colours."""

    def lum(c: str) -> float:
        r, g, b_ = (
            x / 12.92 if x <= 0.03928 else ((x + 0.055) / 1.055) ** 2.4
            for x in (v / 255 for v in Color.parse(c).rgb)
        )
        return 0.2126 * r + 0.7152 * g + 0.0722 * b_

    hi, lo = sorted((lum(a), lum(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_shipped_themes_load_and_their_status_colours_are_readable() -> None:
    errors: list[ThemeError] = []
    themes = {t.name: t for t in load_themes(BUILTIN_THEMES, on_error=errors.append)}
    assert errors == []
    assert {"maestro-dark", "maestro-light", "maestro-high-contrast"} <= set(themes)
    assert themes["maestro-light"].dark is False
    for theme in themes.values():
        assert theme.background and theme.success and theme.warning and theme.error
        for status in (theme.success, theme.warning, theme.error, theme.foreground):
            assert status is not None
            assert contrast(status, theme.background) >= 4.5, (theme.name, status)


def test_user_themes_load_after_the_built_in_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert theme_folders() == [BUILTIN_THEMES]  # no folder of the user's yet
    user_theme_folder().mkdir(parents=True)
    (user_theme_folder() / "tide.toml").write_text(GOOD)
    assert theme_folders() == [BUILTIN_THEMES, user_theme_folder()]
    from maestro_tui.ui.app import MaestroApp

    app = MaestroApp(lambda: None, watch_themes=False)  # type: ignore[arg-type, return-value]
    assert {"maestro-dark", "tide"} <= set(app.available_themes)


def test_a_theme_file_becomes_a_textual_theme(tmp_path: Path) -> None:
    (tmp_path / "tide.toml").write_text(GOOD)
    theme = load_theme(tmp_path / "tide.toml")
    assert isinstance(theme, Theme)
    assert (theme.name, theme.dark, theme.primary) == ("tide", False, "#1d4ed8")
    assert theme.variables == {"footer-key-foreground": "#1d4ed8"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[colors]\nprimary = "reddish"', "bad.toml: colors.primary = 'reddish' is not a colour"),
        ("[colors]\nsuccess = '#00ff00'", "bad.toml: colors.primary is missing"),
        ("[colors]\nprimary = '#fff'\nprimray = '#000'", "bad.toml: colors.primray is not"),
        ("colours = 1", "bad.toml: unknown key 'colours'"),
        ("dark = 'yes'\n[colors]\nprimary = '#fff'", "bad.toml: dark must be true or false"),
        ("[colors]\nprimary = 3", "bad.toml: colors.primary must be a colour string"),
        ("[colors\nprimary", "bad.toml: not valid TOML"),
        ("[colors]\nprimary = '#fff'\n[variables]\nborder = 1", "bad.toml: variables.border"),
    ],
)
def test_a_bad_file_is_named_with_its_key(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "bad.toml").write_text(text)
    with pytest.raises(ThemeError) as caught:
        load_theme(tmp_path / "bad.toml")
    assert message in str(caught.value)


def test_one_bad_file_does_not_stop_the_others(tmp_path: Path) -> None:
    (tmp_path / "a-bad.toml").write_text("[colors]\nprimary = 'nope'")
    (tmp_path / "tide.toml").write_text(GOOD)
    errors: list[ThemeError] = []
    assert [t.name for t in load_themes(tmp_path, on_error=errors.append)] == ["tide"]
    assert [str(e).split(":")[0] for e in errors] == ["a-bad.toml"]


class ThemedApp(App[None]):
    CSS = "#swatch { background: $primary; }"

    def compose(self) -> ComposeResult:
        yield Static("swatch", id="swatch")


async def test_editing_the_current_theme_file_reapplies_it(tmp_path: Path) -> None:
    path = tmp_path / "tide.toml"
    path.write_text(GOOD)
    app = ThemedApp()
    reloaded: asyncio.Queue[Theme] = asyncio.Queue()
    errors: list[ThemeError] = []
    ready = asyncio.Event()
    async with app.run_test() as pilot:
        for theme in load_themes(tmp_path):
            app.register_theme(theme)
        app.theme = "tide"
        app.run_worker(
            watch_themes(
                app,
                tmp_path,
                on_reload=reloaded.put_nowait,
                on_error=errors.append,
                on_ready=ready.set,
            ),
            exclusive=True,
            group="themes",
        )
        await asyncio.wait_for(ready.wait(), WAIT_S)
        path.write_text(GOOD.replace('primary = "#1d4ed8"', 'primary = "#aa0000"'))
        theme = await asyncio.wait_for(reloaded.get(), WAIT_S)
        await pilot.pause()  # let the CSS refresh the reload scheduled
        assert theme.primary == "#aa0000" and app.current_theme.primary == "#aa0000"
        red = app.query_one("#swatch").styles.background  # was blue: the CSS was refreshed
        assert red.r > 150 and red.g < 10 and red.b < 10
        path.write_text("[colors]\nprimary = 'nope'")  # a bad edit keeps the old theme
        (tmp_path / "zz-new.toml").write_text(GOOD.replace('"tide"', '"zz-new"'))
        theme = await asyncio.wait_for(reloaded.get(), WAIT_S)
        assert theme.name == "zz-new" and app.get_theme("zz-new") is not None
        assert app.current_theme.primary == "#aa0000"
        assert any("tide.toml: colors.primary = 'nope'" in str(e) for e in errors)
        app.workers.cancel_group(app, "themes")
