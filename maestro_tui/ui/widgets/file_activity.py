"""FileActivity: per agent, the files changing in its worktree, from FileChanged events."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.widgets import Static

from maestro_tui.config.presets import EVERY_SCRATCH, is_scratch
from maestro_tui.domain import events as ev

MARK = {"added": ("+", "text-success"), "modified": ("~", "text-warning"),
        "deleted": ("-", "text-error")}  # fmt: skip


class FileActivity(Static):
    """One line per task: its most recently changed files, newest first (+ added, ~ modified,
    - deleted). Feed it events; it redraws only when a FileChanged arrives. A worker's own
    scratch (Aider's cache) is not shown: runs recorded before the watcher left it out have
    it among their events."""

    DEFAULT_CSS = """
    FileActivity { height: auto; max-height: 12; padding: 0 1; }
    """

    def __init__(self, *, per_task: int = 8, id: str | None = None) -> None:
        super().__init__("", id=id)
        self.per_task = per_task
        # task -> path -> change, oldest first (dicts keep insertion order)
        self._files: dict[str, dict[str, str]] = {}

    def on_mount(self) -> None:
        self.update(self._text())

    def files(self, task_id: str) -> list[tuple[str, str]]:
        """(path, change) for a task, newest first."""
        return list(reversed(self._files.get(task_id, {}).items()))

    def feed(self, events: Sequence[ev.Event]) -> None:
        """Note the FileChanged events among these; other events are ignored."""
        changed = False
        for e in events:
            if type(e) is ev.FileChanged and not is_scratch(e.path, EVERY_SCRATCH):
                files = self._files.setdefault(e.task, {})
                files.pop(e.path, None)
                files[e.path] = e.change
                while len(files) > self.per_task:
                    del files[next(iter(files))]
                changed = True
        if changed:
            self.update(self._text())

    def reset(self) -> None:
        """Forget everything (a replay seek)."""
        self._files = {}
        self.update(self._text())

    def _text(self) -> Text:
        if not self._files:
            return Text("no file changes yet", style="italic")
        colours = self.app.get_css_variables()
        width = max(len(task) for task in self._files)
        text = Text(no_wrap=True, overflow="ellipsis")
        for n, (task, files) in enumerate(self._files.items()):
            if n:
                text.append("\n")
            text.append(task.ljust(width), style="bold")
            for path, change in reversed(files.items()):
                mark, colour = MARK.get(change, ("?", "text"))
                text.append("  ")
                text.append(mark + path, style=colours.get(colour, ""))
        return text
