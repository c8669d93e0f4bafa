"""ResolvedView: a conflicted file as it would be merged with the decisions taken so far."""

from __future__ import annotations

from rich.console import Group
from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Static

from maestro_tui.ui.resolutions import FileResolution, both_overlap, preview_text
from maestro_tui.ui.widgets.diff_view import highlight_lines

_MARKERS = ("<<<<<<<", "|||||||", "=======", ">>>>>>>")


def render_resolved(res: FileResolution, dark: bool = True) -> Group:
    """A title saying how far the file is decided, warnings, then the numbered, highlighted text."""
    text = preview_text(res)
    title = Text.assemble((res.path, "bold"), "  as it would be merged · ", res.status())
    parts: list[Text] = [title]
    for i, hunk in enumerate(res.conflict.hunks):
        if res.manual is None and res.choices[i] == "both" and both_overlap(hunk):
            parts.append(
                Text(
                    f'⚠ hunk {i + 1}: "both" keeps two edits of the same lines, ours then'
                    " theirs: read the result (e to edit it)",
                    "bold yellow",
                )
            )
    if not res.decided:
        parts.append(Text("undecided hunks keep their conflict markers (red)", "yellow"))
    width = len(str(text.count("\n") + 1))
    for n, line in enumerate(highlight_lines(text.rstrip("\n"), res.path, dark), start=1):
        gutter = Text(f"{n:>{width}} ", "dim")
        if line.plain.startswith(_MARKERS):
            line = Text(line.plain, "bold red")
        parts.append(Text.assemble(gutter, line))
    return Group(*parts)


class ResolvedView(VerticalScroll, can_focus=True):
    """The preview pane of the merge review."""

    DEFAULT_CSS = """
    ResolvedView { background: $surface; padding: 0 1; }
    """

    def compose(self):  # type: ignore[no-untyped-def]
        yield Static(id="resolved-text")

    def show(self, res: FileResolution | None) -> None:
        body = self.query_one("#resolved-text", Static)
        if res is None:
            body.update(Text("nothing conflicts: the diff is merged as it is", "dim"))
            return
        body.update(render_resolved(res, self.app.current_theme.dark))
