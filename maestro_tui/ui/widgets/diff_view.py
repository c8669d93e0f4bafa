"""DiffView: one file of a unified diff at a time, syntax-highlighted, unified or side by side.

Only the current file is highlighted and only the visible rows are rendered (Line API), so a
diff of thousands of lines stays responsive.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from pygments.lexer import Lexer
from pygments.lexers import get_lexer_for_filename
from pygments.token import Token, _TokenType
from pygments.util import ClassNotFound
from rich.segment import Segment
from rich.style import Style
from rich.syntax import Syntax
from rich.text import Text
from textual.cache import LRUCache
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

Layout = Literal["unified", "split"]
_HUNK = re.compile(r"^@@ -(\d+)(?:,\d+)? \+(\d+)(?:,\d+)? @@")


@dataclass(frozen=True)
class DiffLine:
    """One line of a hunk: kind is " " (context), "-", "+", "@" (hunk header) or "\\"."""

    kind: str
    text: str
    old_no: int | None = None
    new_no: int | None = None


@dataclass(frozen=True)
class FileDiff:
    """The part of a unified diff about one file."""

    path: str
    old_path: str
    notes: tuple[str, ...]  # "new file", "deleted file", "binary", "renamed from …"
    lines: tuple[DiffLine, ...]

    @property
    def insertions(self) -> int:
        return sum(1 for line in self.lines if line.kind == "+")

    @property
    def deletions(self) -> int:
        return sum(1 for line in self.lines if line.kind == "-")


def parse_diff(text: str) -> tuple[FileDiff, ...]:
    """Split `git diff` output into files, numbering each line on the old and new side."""
    files: list[FileDiff] = []
    path = old_path = ""
    notes: list[str] = []
    lines: list[DiffLine] = []
    old_no = new_no = 0

    def flush() -> None:
        if path or lines:
            files.append(FileDiff(path, old_path or path, tuple(notes), tuple(lines)))

    for raw in text.splitlines():
        if raw.startswith("diff --git "):
            flush()
            a, _, b = raw[len("diff --git ") :].partition(" b/")
            path, old_path, notes, lines = b, a.removeprefix("a/"), [], []
        elif not lines and raw.startswith(("--- ", "+++ ", "index ", "similarity ")):
            if raw.startswith("+++ ") and raw != "+++ /dev/null":
                path = raw[4:].removeprefix("b/")
        elif not lines and raw.startswith(("new file", "deleted file", "rename from", "Binary")):
            notes.append("binary file" if raw.startswith("Binary") else raw)
        elif m := _HUNK.match(raw):
            old_no, new_no = int(m.group(1)), int(m.group(2))
            lines.append(DiffLine("@", raw))
        elif not lines:
            continue  # other extended headers (mode changes, rename to …)
        elif raw.startswith("-"):
            lines.append(DiffLine("-", raw[1:], old_no, None))
            old_no += 1
        elif raw.startswith("+"):
            lines.append(DiffLine("+", raw[1:], None, new_no))
            new_no += 1
        elif raw.startswith("\\"):
            lines.append(DiffLine("\\", raw))
        else:
            lines.append(DiffLine(" ", raw[1:], old_no, new_no))
            old_no, new_no = old_no + 1, new_no + 1
    flush()
    return tuple(files)


@lru_cache(maxsize=64)
def _lexer_for(path: str) -> Lexer | None:
    try:
        return get_lexer_for_filename(path, stripnl=False, ensurenl=False)
    except ClassNotFound:
        return None


@lru_cache(maxsize=512)
def _token_style(theme_name: str, token: _TokenType) -> Style:
    if token in Token.Text:
        return Style.null()
    style = Syntax.get_theme(theme_name).get_style_for_token(token)
    # Foreground only: backgrounds come from the diff (added / removed) and the app theme.
    return Style(color=style.color, bold=style.bold, italic=style.italic)


def highlight_lines(code: str, path: str, dark: bool = True) -> list[Text]:
    """Highlight `code` with the lexer its file name implies; one Text per line."""
    lexer = _lexer_for(path)
    if lexer is None:
        return [Text(line) for line in code.split("\n")]
    theme = "monokai" if dark else "default"
    text = Text()
    for token, value in lexer.get_tokens(code):
        text.append(value, _token_style(theme, token))
    return list(text.split("\n", allow_blank=True))


_ADDED = Style(bgcolor="#1d3b24")
_REMOVED = Style(bgcolor="#47201f")
_HEADER = Style(color="#7aa6da", bold=True)
_GUTTER = Style(color="#7f7f7f", dim=True)
_BLANK = Style(bgcolor="#262626")


class DiffView(ScrollView, can_focus=True):
    """Shows one file of a diff; `]`/`[`-style navigation is driven by the screen."""

    DEFAULT_CSS = """
    DiffView { background: $surface; }
    """

    class FileShown(Message):
        """The current file changed, so the screen can update its title bar."""

        def __init__(self, diff_view: DiffView, index: int, path: str) -> None:
            super().__init__()
            self.diff_view = diff_view
            self.index = index
            self.path = path

    def __init__(self, *, name: str | None = None, id: str | None = None) -> None:
        super().__init__(name=name, id=id)
        self.files: tuple[FileDiff, ...] = ()
        self.file_index = 0
        self.hunk_index = 0
        self.diff_layout: Layout = "unified"
        self._rows: list[tuple[DiffLine | None, DiffLine | None]] = []
        self._texts: dict[int, Text] = {}  # id(DiffLine) -> highlighted text
        self._cache: LRUCache[tuple[int, int, int], Strip] = LRUCache(1024)

    # --- data ------------------------------------------------------------------------------

    def load(self, diff_text: str) -> None:
        """Show a new diff, from its first file."""
        self.files = parse_diff(diff_text)
        self.show_file(0)

    @property
    def current(self) -> FileDiff | None:
        return self.files[self.file_index] if self.files else None

    @property
    def hunk_rows(self) -> list[int]:
        """The rows that start a hunk (its `@@` header)."""
        return [i for i, (a, _) in enumerate(self._rows) if a is not None and a.kind == "@"]

    def show_file(self, index: int) -> None:
        """Show file `index` (clamped), from its top."""
        self.file_index = max(0, min(index, len(self.files) - 1))
        self._build()
        current = self.current
        if current is not None:
            self.post_message(self.FileShown(self, self.file_index, current.path))

    def set_layout(self, layout: Layout) -> None:
        """Switch between "unified" and "split" (old | new side by side)."""
        self.diff_layout = layout
        self._build()

    def step_hunk(self, delta: int) -> None:
        """Move to the next (+1) or previous (-1) hunk of the current file."""
        rows = self.hunk_rows
        if rows:
            self.hunk_index = max(0, min(self.hunk_index + delta, len(rows) - 1))
            self.scroll_to(y=rows[self.hunk_index], animate=False)

    def _build(self) -> None:
        """Highlight the current file and lay it out in rows for the current layout."""
        self._cache.clear()
        self._texts.clear()
        self.hunk_index = 0
        current = self.current
        lines = current.lines if current else ()
        dark = self.app.current_theme.dark if self.is_attached else True
        path = current.path if current else ""
        for side in ("-", "+"):
            picked = [ln for ln in lines if ln.kind in (" ", side)]
            texts = highlight_lines("\n".join(ln.text for ln in picked), path, dark)
            for line, text in zip(picked, texts, strict=False):
                self._texts[id(line)] = text  # context lines: the new side's highlighting wins
        self._rows = _unified_rows(lines) if self.diff_layout == "unified" else _split_rows(lines)
        if current is not None and current.notes:
            self._rows[:0] = [(DiffLine("\\", note), None) for note in current.notes]
        if not self._rows:
            self._rows = [(DiffLine("\\", "no changes in this diff" if not current else ""), None)]
        width = max((len(a.text if a else "") for a, _ in self._rows), default=0) + 14
        self.virtual_size = Size(width if self.diff_layout == "unified" else 0, len(self._rows))
        self.scroll_to(0, 0, animate=False)
        self.refresh()

    # --- rendering -------------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        row = y + round(self.scroll_offset.y)
        width = self.scrollable_content_region.width
        if row >= len(self._rows):
            return Strip.blank(width, self.rich_style)
        key = (row, width, round(self.scroll_offset.x))
        cached = self._cache.get(key)
        if cached is None:
            cached = self._render_row(row, width).crop(key[2], key[2] + width)
            cached = cached.simplify()
            self._cache[key] = cached
        return cached.apply_style(self.rich_style)

    def _render_row(self, row: int, width: int) -> Strip:
        left, right = self._rows[row]
        if self.diff_layout == "unified":
            full = max(width, self.virtual_size.width)
            return self._cell(left, full, both_numbers=True)
        half = (width - 1) // 2
        if left is not None and left.kind in "@\\":
            return self._cell(left, width, both_numbers=True)
        return Strip.join(
            [
                self._cell(left, half),
                Strip([Segment("│", _GUTTER)]),
                self._cell(right, width - half - 1),
            ]
        )

    def _cell(self, line: DiffLine | None, width: int, both_numbers: bool = False) -> Strip:
        if line is None:
            return Strip([Segment(" " * width, _BLANK)], width)
        if line.kind in "@\\":
            text = Text(line.text, _HEADER)
        else:
            numbers = (
                f"{_no(line.old_no)} {_no(line.new_no)} "
                if both_numbers
                else f"{_no(line.new_no if line.old_no is None else line.old_no)} "
            )
            body = self._texts.get(id(line)) or Text(line.text)
            text = Text.assemble((numbers, _GUTTER), (line.kind + " ", _GUTTER), body)
        text.truncate(width, pad=True)
        if line.kind in "+-":
            text.stylize(_ADDED if line.kind == "+" else _REMOVED)
        segments = list(text.render(self.app.console, end=""))
        return Strip(segments).adjust_cell_length(width)


def _no(n: int | None) -> str:
    return f"{n:>5}" if n is not None else "     "


def _unified_rows(lines: tuple[DiffLine, ...]) -> list[tuple[DiffLine | None, DiffLine | None]]:
    return [(line, None) for line in lines]


def _split_rows(lines: tuple[DiffLine, ...]) -> list[tuple[DiffLine | None, DiffLine | None]]:
    """Pair removed with added lines of each change block; context shows on both sides."""
    rows: list[tuple[DiffLine | None, DiffLine | None]] = []
    removed: list[DiffLine] = []
    added: list[DiffLine] = []

    def flush() -> None:
        for i in range(max(len(removed), len(added))):
            rows.append(
                (removed[i] if i < len(removed) else None, added[i] if i < len(added) else None)
            )
        removed.clear()
        added.clear()

    for line in lines:
        if line.kind == "-":
            removed.append(line)
        elif line.kind == "+":
            added.append(line)
        else:
            flush()
            rows.append((line, line if line.kind == " " else None))
    flush()
    return rows
