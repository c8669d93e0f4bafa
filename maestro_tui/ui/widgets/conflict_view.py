"""ConflictView: base / ours / theirs of each hunk of one conflicted file, with its choice.

The decisions themselves (`FileResolution`) live in ui/resolutions.py.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import tempfile
from pathlib import Path, PurePosixPath
from typing import Any

from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.app import App, SuspendNotSupported
from textual.containers import VerticalScroll
from textual.widgets import Static

from maestro_tui.ui.resolutions import (
    CHOICE_LABELS,
    FileResolution,
    HunkKey,
    both_overlap,
    hunk_key,
)
from maestro_tui.ui.widgets.diff_view import highlight_lines
from maestro_tui.workspace.merge import ConflictHunk


def edit_in_editor(app: App[Any], text: str, path: str) -> str:
    """Open `text` in $EDITOR as a temporary file named like `path`; return what was saved.

    The app is suspended meanwhile. OSError if the editor cannot start or fails.
    """
    argv = shlex.split(os.environ.get("EDITOR") or os.environ.get("VISUAL") or "vi")
    with tempfile.TemporaryDirectory(prefix="maestro-merge-") as tmp:
        file = Path(tmp) / PurePosixPath(path).name  # its suffix picks the editor's highlighting
        file.write_text(text, "utf-8")
        try:
            with app.suspend():
                code = subprocess.run([*argv, str(file)], check=False).returncode
        except SuspendNotSupported:
            # Headless (tests) or a web terminal: there is no terminal to hand over.
            done = subprocess.run([*argv, str(file)], stdin=subprocess.DEVNULL, capture_output=True)
            code = done.returncode
        if code != 0:
            raise OSError(f"the editor {argv[0]!r} exited with code {code}: nothing changed")
        return file.read_text("utf-8")


CONTEXT_LINES = 3


def hunk_context(text: str, hunk: ConflictHunk) -> tuple[list[str], list[str]]:
    """Up to CONTEXT_LINES plain lines before and after a hunk in the marker text."""
    lines = text.splitlines()
    start = hunk.start_line - 1
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith(">>>>>>>")), start)

    def plain(chunk: list[str]) -> list[str]:
        return [line for line in chunk if not line.startswith(("<<<<<<<", ">>>>>>>"))]

    before = lines[max(0, start - CONTEXT_LINES) : start]
    after = lines[end + 1 : end + 1 + CONTEXT_LINES]
    cut = next((i for i, line in enumerate(before[::-1]) if line.startswith(">>>>>>>")), None)
    before = before[len(before) - cut :] if cut is not None else before
    cut = next((i for i, line in enumerate(after) if line.startswith("<<<<<<<")), None)
    return plain(before), plain(after[:cut])


class HunkPanel(Static):
    """One hunk: a title with its choice, then base | ours | theirs side by side, between a few
    lines of the unchanged text around it."""

    def __init__(
        self,
        path: str,
        hunk: ConflictHunk,
        index: int,
        total: int,
        text: str,
        changed: bool = False,
    ) -> None:
        super().__init__(classes="hunk -changed" if changed else "hunk")
        self.path = path
        self.hunk = hunk
        self.index = index
        self.total = total
        self.changed = changed  # new since the review opened: the branch moved under it
        self.before, self.after = hunk_context(text, hunk)

    def show_choice(self, choice: str | None) -> None:
        self.set_class(choice is None, "-undecided")
        self.update(self._table(choice))

    def _table(self, choice: str | None) -> RenderableType:
        chosen = {"both": ("ours", "theirs")}.get(choice or "", (choice,))
        label = CHOICE_LABELS.get(choice or "", "undecided")
        title = Text.assemble(
            (f"hunk {self.index + 1}/{self.total}", "bold"),
            f" · line {self.hunk.start_line} · ",
            ("choice: " + label, "bold green" if choice else "bold yellow"),
        )
        if self.changed:
            title.append("  ↻ changed since you opened the review", "bold magenta")
        if choice == "both" and both_overlap(self.hunk):
            title.append("  ⚠ both sides edit the same lines", "bold yellow")
        table = Table(box=box.SIMPLE_HEAD, expand=True, show_edge=False, pad_edge=False)
        for side, heading in (
            ("base", "base"),
            ("ours", "ours · integration"),
            ("theirs", "theirs · task"),
        ):
            mark = "✔ " if side in chosen else ""
            table.add_column(
                mark + heading,
                ratio=1,
                overflow="fold",
                header_style="bold reverse" if mark else "bold",
            )
        dark = self.app.current_theme.dark
        cells = []
        for side in ("base", "ours", "theirs"):
            code = getattr(self.hunk, side).rstrip("\n")
            lines = highlight_lines(code, self.path, dark) if code else [Text("(empty)", "dim")]
            cells.append(Text("\n").join(lines))
        # The unchanged lines around the hunk are the same on every side: shown dim in each.
        if self.before:
            table.add_row(*[Text("\n".join(self.before), "dim")] * 3)
        table.add_row(*cells)
        if self.after:
            table.add_row(*[Text("\n".join(self.after), "dim")] * 3)
        return Group(title, table)


class ConflictView(VerticalScroll, can_focus=True):
    """The hunks of one conflicted file, the current one marked; the screen drives it."""

    DEFAULT_CSS = """
    ConflictView { background: $surface; }
    ConflictView .hunk { border: round $panel-lighten-2; padding: 0 1; margin: 0 0 1 0; }
    ConflictView .hunk.-undecided { border: round $warning; }
    ConflictView .hunk.-changed { border: round magenta; }
    ConflictView .hunk.-current { border: heavy $accent; }
    ConflictView #conflict-header { padding: 0 1; margin-bottom: 1; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.resolution: FileResolution | None = None
        self.hunk_index = 0

    async def show(
        self, resolution: FileResolution, hunk: int = 0, changed: frozenset[HunkKey] = frozenset()
    ) -> None:
        """Show one file's hunks (mounting one panel per hunk) with hunk `hunk` current;
        hunks in `changed` are marked as new since the review opened."""
        self.resolution = resolution
        await self.remove_children()
        conflict = resolution.conflict
        panels = [
            HunkPanel(
                conflict.path,
                h,
                i,
                len(conflict.hunks),
                conflict.text,
                hunk_key(conflict.path, h) in changed,
            )
            for i, h in enumerate(conflict.hunks)
        ]
        await self.mount(Static(id="conflict-header"), *panels)
        self.refresh_choices()
        self.set_hunk(hunk)

    def refresh_choices(self) -> None:
        """Redraw the header and every hunk's choice after a decision."""
        res = self.resolution
        if res is None:
            return
        header = Text.assemble((res.path, "bold"), f"  {res.status()}")
        if res.conflict.note:
            header.append(f"\n{res.conflict.note}", "italic")
        if not res.conflict.hunks:
            header.append("\nNo hunks to choose from: reject the task, or retry it (R).", "yellow")
        if res.manual is not None:
            header.append("\nResolved by hand (e); o/t/b go back to choosing per hunk:\n", "green")
            header.append(Text("\n").join(highlight_lines(res.manual, res.path)))
        self.query_one("#conflict-header", Static).update(header)
        for panel in self.query(HunkPanel):
            panel.show_choice(res.choices[panel.index] if res.manual is None else None)

    def set_hunk(self, index: int) -> None:
        """Make hunk `index` (clamped) current and scroll it into view."""
        panels = list(self.query(HunkPanel))
        if not panels:
            self.hunk_index = 0
            return
        self.hunk_index = max(0, min(index, len(panels) - 1))
        for panel in panels:
            panel.set_class(panel.index == self.hunk_index, "-current")
        self.scroll_to_widget(panels[self.hunk_index], animate=False, top=True)
