"""MergeQueueTable: results held for the human, with the reasons and any conflicting files."""

from __future__ import annotations

from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable

from maestro_tui.domain.state import RunState, TaskView


class MergeQueueTable(DataTable[Text]):
    """The waiting merges; Enter asks for the review of the one under the cursor."""

    BINDING_GROUP_TITLE = "merge queue"

    BINDINGS = [Binding("enter", "select_cursor", "review", show=True)]

    class ReviewRequested(Message):
        """Enter on a waiting merge: the screen opens the merge review for that task."""

        def __init__(self, task_id: str) -> None:
            self.task_id = task_id
            super().__init__()

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self._waiting: tuple[TaskView, ...] | None = None

    def on_mount(self) -> None:
        for key, label in (("task", "task"), ("reasons", "reasons"), ("conflicts", "conflicts")):
            self.add_column(label, key=key)
        self._title(0)

    def _title(self, n: int) -> None:
        self.border_title = f"merge queue · {n} waiting"

    @property
    def waiting_count(self) -> int:
        return len(self._waiting or ())

    @property
    def selected_task_id(self) -> str | None:
        if not self.row_count:
            return None
        row_key, _ = self.coordinate_to_cell_key(self.cursor_coordinate)
        return row_key.value

    def show(self, state: RunState) -> None:
        """Redraw only when a waiting task was added, removed or changed (by object identity)."""
        waiting = tuple(state.waiting_merges)
        old = self._waiting
        if (
            old is not None
            and len(old) == len(waiting)
            and all(a is b for a, b in zip(old, waiting, strict=True))
        ):
            return
        self._waiting = waiting
        selected = self.selected_task_id
        self.clear()
        for view in waiting:
            self.add_row(
                Text.assemble(("⚑ ", "bold magenta"), (view.id, "bold")),
                Text("; ".join(view.wait_reasons) or view.reason, overflow="ellipsis"),
                Text(
                    ", ".join(view.conflict_files) or "-",
                    style="red" if view.conflict_files else "dim",
                ),
                key=view.id,
            )
        if selected and any(v.id == selected for v in waiting):
            self.move_cursor(row=self.get_row_index(selected))
        self._title(len(waiting))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.row_key.value:
            self.post_message(self.ReviewRequested(event.row_key.value))
