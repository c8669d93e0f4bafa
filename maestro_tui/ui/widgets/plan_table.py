"""PlanTable: a plan's tasks, one row each, with the tasks that have problems marked."""

from __future__ import annotations

from collections.abc import Collection

from rich.text import Text
from textual.widgets import DataTable

from maestro_tui.domain.plan import Plan, Task

COLUMNS = ("id", "role", "title", "depends on", "files")


class PlanTable(DataTable[str | Text]):
    """Rows keyed by task id; `show` rebuilds them and keeps the cursor on the same task."""

    DEFAULT_CSS = """
    PlanTable { height: 1fr; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self._ids: list[str] = []
        for label in COLUMNS:
            self.add_column(label, key=label)

    @property
    def selected_id(self) -> str | None:
        """The id of the task under the cursor."""
        if not self._ids:
            return None
        return self._ids[min(self.cursor_row, len(self._ids) - 1)]

    def show(self, plan: Plan, faulty: Collection[str] = ()) -> None:
        """Show `plan`; tasks named in `faulty` get a red ✘ beside their id."""
        keep = self.selected_id
        self.clear()
        self._ids = [t.id for t in plan.tasks]
        for task in plan.tasks:
            self.add_row(*self._cells(task, task.id in faulty), key=task.id)
        if keep in self._ids:
            self.move_cursor(row=self._ids.index(keep))

    def select(self, task_id: str) -> None:
        """Put the cursor on a task's row."""
        if task_id in self._ids:
            self.move_cursor(row=self._ids.index(task_id))

    @staticmethod
    def _cells(task: Task, faulty: bool) -> tuple[str | Text, ...]:
        ident = Text.assemble(("✘ " if faulty else "  ", "bold red"), task.id)
        return (
            ident,
            task.role,
            task.title,
            ", ".join([*task.depends_on, *(f"{t} (common file)" for t in task.after)]) or "—",
            ", ".join(task.files) or "—",
        )
