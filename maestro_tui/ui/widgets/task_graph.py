"""TaskGraph: the plan's DAG, layer by layer, one row per task with its status."""

from __future__ import annotations

from collections.abc import Mapping

from rich.text import Text
from textual.binding import Binding
from textual.color import Color
from textual.message import Message
from textual.widgets import DataTable
from textual.widgets.data_table import RowKey

from maestro_tui.domain.attention import task_needs_you
from maestro_tui.domain.state import RunState, TaskStatus, TaskView
from maestro_tui.ui.widgets.keys_panel import first_stop

# Glyphs are single-width on every terminal we met (no emoji presentation forms).
GLYPH: Mapping[TaskStatus, str] = {
    TaskStatus.PENDING: "·",
    TaskStatus.QUEUED: "○",
    TaskStatus.RUNNING: "►",
    TaskStatus.RETRYING: "↻",
    TaskStatus.MERGING: "⇄",
    TaskStatus.WAITING: "◆",
    TaskStatus.MERGED: "✓",
    TaskStatus.DONE: "✓",
    TaskStatus.FAILED: "✘",
    TaskStatus.BLOCKED: "⊘",
    TaskStatus.CANCELLED: "⊗",
    TaskStatus.REJECTED: "✗",
}

# DataTable's keys that move between rows or choose one.
ROWS = frozenset({"enter", "up", "down", "pageup", "pagedown", "ctrl+home", "ctrl+end"})

# Theme variable each status is drawn in, so a theme switch recolours the graph.
THEME_VAR: Mapping[TaskStatus, str] = {
    TaskStatus.PENDING: "foreground-muted",
    TaskStatus.QUEUED: "secondary",
    TaskStatus.RUNNING: "warning",
    TaskStatus.RETRYING: "warning",
    TaskStatus.MERGING: "primary",
    TaskStatus.WAITING: "accent",
    TaskStatus.MERGED: "success",
    TaskStatus.DONE: "success",
    TaskStatus.FAILED: "error",
    TaskStatus.BLOCKED: "error",
    TaskStatus.CANCELLED: "foreground-muted",
    TaskStatus.REJECTED: "error",
}

_FALLBACK = {
    "foreground-muted": "grey50",
    "secondary": "cyan",
    "warning": "yellow",
    "primary": "blue",
    "accent": "magenta",
    "success": "green",
    "error": "red",
}


def status_styles(variables: Mapping[str, str]) -> dict[TaskStatus, str]:
    """A Rich style per status from the app's theme variables."""
    styles: dict[TaskStatus, str] = {}
    for status, var in THEME_VAR.items():
        value = variables.get(var)
        try:
            colour = Color.parse(value).hex6 if value else _FALLBACK[var]
        except Exception:  # a theme with an odd value must not break the dashboard
            colour = _FALLBACK[var]
        bold = status in (TaskStatus.RUNNING, TaskStatus.WAITING, TaskStatus.FAILED)
        styles[status] = f"bold {colour}" if bold else colour
    return styles


def status_text(status: TaskStatus, styles: Mapping[TaskStatus, str]) -> Text:
    return Text(f"{GLYPH[status]} {status.value}", style=styles.get(status, ""))


def task_name(view: TaskView) -> Text:
    """The task's id, flagged when a person has to act on it."""
    if task_needs_you(view):
        return Text.assemble(("⚑ ", "bold magenta"), (view.id, "bold"))
    return Text(view.id, style="bold")


class TaskGraph(DataTable[Text]):
    """One row per task, grouped by DAG layer (critical order), updated cell by cell.

    Its up/down moves and enter run at the key's first stop (`first_stop`): the cursor moves
    without the key's round trip through the screen. Left, right, home and end stay plain
    bindings: the replay screen seeks with them (and a screen's priority binding would run
    first, but the footer would show the table's).
    """

    BINDING_GROUP_TITLE = "task list"
    BINDINGS = first_stop(b for b in Binding.make_bindings(DataTable.BINDINGS) if b.key in ROWS)

    COLUMNS = (
        ("layer", "L", 3),
        ("status", "status", 11),
        ("task", "task", None),
        ("role", "role", None),
        ("tries", "try", 3),
        ("title", "title", None),
    )

    class TaskHighlighted(Message):
        """The cursor moved to a task: the dashboard shows its details."""

        def __init__(self, task_id: str) -> None:
            self.task_id = task_id
            super().__init__()

    class TaskChosen(Message):
        """Enter on a task: the dashboard switches the log pane to that agent."""

        def __init__(self, task_id: str) -> None:
            self.task_id = task_id
            super().__init__()

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes, cursor_type="row", zebra_stripes=False)
        self._views: dict[str, TaskView] = {}
        self._layers: tuple[tuple[str, ...], ...] | None = None
        self._styles: dict[TaskStatus, str] = status_styles({})

    def on_mount(self) -> None:
        for key, label, width in self.COLUMNS:
            self.add_column(label, key=key, width=width)
        self._styles = status_styles(self.app.theme_variables)
        self.app.theme_changed_signal.subscribe(self, self._on_theme_changed)

    def _on_theme_changed(self, _theme: object) -> None:
        self._styles = status_styles(self.app.theme_variables)
        for task_id, view in self._views.items():
            self.update_cell(task_id, "status", status_text(view.status, self._styles))

    @property
    def selected_task_id(self) -> str | None:
        """The task under the cursor, if any."""
        if not self.row_count:
            return None
        row_key, _ = self.coordinate_to_cell_key(self.cursor_coordinate)
        return row_key.value

    def select_task(self, task_id: str) -> None:
        if task_id in self._views:
            self.move_cursor(row=self.get_row_index(task_id))

    def show(self, state: RunState) -> None:
        """Bring the rows up to date; only tasks whose TaskView object changed are redrawn."""
        if state.layers != self._layers or state.tasks.keys() != self._views.keys():
            self._rebuild(state)
            return
        for task_id, view in state.tasks.items():
            old = self._views[task_id]
            if old is view:
                continue
            self._views[task_id] = view
            if old.status is not view.status:
                self.update_cell(task_id, "status", status_text(view.status, self._styles))
            if old.attempts != view.attempts:
                self.update_cell(task_id, "tries", Text(str(view.attempts or "")))
            if task_needs_you(old) != task_needs_you(view):
                self.update_cell(task_id, "task", task_name(view), update_width=True)

    def _rebuild(self, state: RunState) -> None:
        selected = self.selected_task_id
        self.clear()
        self._views = dict(state.tasks)
        self._layers = state.layers
        placed: set[str] = set()
        layers = list(state.layers)
        rest = tuple(t for t in state.tasks if t not in {i for layer in layers for i in layer})
        if rest:
            layers.append(rest)
        for n, layer in enumerate(layers, start=1):
            for i, task_id in enumerate(layer):
                view = state.tasks.get(task_id)
                if view is None or task_id in placed:
                    continue
                placed.add(task_id)
                self.add_row(
                    Text(str(n) if i == 0 else "", style="dim"),
                    status_text(view.status, self._styles),
                    task_name(view),
                    Text(view.role, style="italic"),
                    Text(str(view.attempts or "")),
                    Text(view.title, overflow="ellipsis", no_wrap=True),
                    key=task_id,
                )
        if selected and selected in self._views:
            self.select_task(selected)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        if isinstance(event.row_key, RowKey) and event.row_key.value:
            self.post_message(self.TaskHighlighted(event.row_key.value))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.row_key.value:
            self.post_message(self.TaskChosen(event.row_key.value))
