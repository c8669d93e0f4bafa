"""TaskDetail: everything known of the selected task, redrawn only when its TaskView changes."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from maestro_tui.domain.state import TaskStatus, TaskView
from maestro_tui.ui.widgets.steady import update_steady
from maestro_tui.ui.widgets.task_graph import GLYPH, status_styles

_REASON_STATUSES = (
    TaskStatus.FAILED,
    TaskStatus.BLOCKED,
    TaskStatus.WAITING,
    TaskStatus.REJECTED,
    TaskStatus.RETRYING,
    TaskStatus.CANCELLED,
    TaskStatus.DONE,  # "done, no changes" where it was to change files
)


def _tests(view: TaskView) -> Text:
    if view.tests_passed is None:
        return Text("not run", style="dim")
    counts = []
    if view.n_passed is not None:
        counts.append(f"{view.n_passed} passed")
    if view.n_failed is not None:
        counts.append(f"{view.n_failed} failed")
    label = ", ".join(counts) or ("passed" if view.tests_passed else "failed")
    return Text(
        f"{'✓' if view.tests_passed else '✘'} {label}",
        style="green" if view.tests_passed else "bold red",
    )


def _gate(view: TaskView) -> Text:
    """The gate's test of the task's result merged into the integration branch."""
    if view.gate == "testing":
        return Text("testing the merged tree…", style="yellow")
    counts = ", ".join(
        f"{n} {word}"
        for n, word in ((view.gate_n_passed, "passed"), (view.gate_n_failed, "failed"))
        if n
    )
    ok = view.gate == "passed"
    return Text(f"{'✓' if ok else '✘'} {counts or view.gate}", style="green" if ok else "bold red")


def _diff(view: TaskView) -> Text:
    if not view.files_changed and not view.commit:
        return Text("no commit yet", style="dim")
    text = Text()
    text.append(f"+{view.insertions}", style="green")
    text.append(" ")
    text.append(f"−{view.deletions}", style="red")
    n = len(view.files_changed)
    text.append(f" in {n} file{'s' if n != 1 else ''}")
    return text


def _critic(verdict: str) -> Text:
    approved = verdict.startswith("approved")
    return Text(verdict, style="green" if approved else "yellow")


def _ensemble(view: TaskView, chosen_by: str) -> Text:
    n = len(view.candidates)
    if view.chosen_candidate is None:
        return Text(f"{n} candidate{'s' if n != 1 else ''}, none chosen yet", style="dim")
    text = Text(f"candidate {view.chosen_candidate} of {n} chosen")
    if chosen_by:
        text.append(f" by {chosen_by}", style="bold" if chosen_by == "human" else "")
    return text


def render_task(
    view: TaskView, styles: dict[TaskStatus, str] | None = None, chosen_by: str = ""
) -> Group:
    """The detail block of one task, as a Rich renderable (pure: used by tests and replay).

    `chosen_by`: the method of the ensemble's last CandidateSelected (not in TaskView)."""
    styles = styles or status_styles({})
    head = Text()
    head.append(f"{view.id} ", style="bold")
    head.append(f"{GLYPH[view.status]} {view.status.value}", style=styles[view.status])
    head.append(f"  {view.title}", style="italic")
    grid = Table.grid(padding=(0, 1))
    grid.add_column(style="dim", no_wrap=True)
    grid.add_column(overflow="fold")
    grid.add_row("role", f"{view.role}" + (f" · {view.worker}" if view.worker else ""))
    grid.add_row("files", ", ".join(view.files) or "any")
    if view.depends_on or view.after:
        overlap = [f"{t} (a common file)" for t in view.after]  # ordered, not a dependency
        grid.add_row("after", ", ".join([*view.depends_on, *overlap]))
    attempts = str(view.attempts)
    if view.fix_rounds:
        attempts += f" · {view.fix_rounds} fix round{'s' if view.fix_rounds != 1 else ''}"
    grid.add_row("attempts", attempts)
    if view.candidates:
        grid.add_row("ensemble", _ensemble(view, chosen_by))
    grid.add_row("tests", _tests(view))
    if view.gate:
        grid.add_row("as merged", _gate(view))
    if view.critic:
        grid.add_row("critic", _critic(view.critic))
    grid.add_row("diff", _diff(view))
    grid.add_row(
        "usage",
        f"${view.cost_usd:.4f} · {view.tokens_in:,} in / {view.tokens_out:,} out tokens",
    )
    if view.waiting and view.status is TaskStatus.RUNNING:
        grid.add_row("waits", Text(view.waiting, style="bold yellow"))
    if view.reason and (view.status in _REASON_STATUSES or view.stalled_s is not None):
        grid.add_row("reason", Text(view.reason, style="bold"))
    if view.session_id:
        grid.add_row("session", Text(view.session_id, style="dim"))
    if view.conflict_files:
        grid.add_row("conflicts", Text(", ".join(view.conflict_files), style="red"))
    if view.summary:
        grid.add_row("summary", view.summary)
    return Group(head, grid)


class TaskDetail(Static):
    """The selected task's role, files, attempts and fix rounds, ensemble pick, tests, critic,
    diff stat, cost and reason."""

    DEFAULT_CSS = """
    TaskDetail { padding: 0 1; }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(Text("select a task", style="dim"), id=id, classes=classes)
        self._view: TaskView | None = None
        self._chosen_by = ""

    def show(self, view: TaskView | None, chosen_by: str = "") -> None:
        """Redraw only when given a different TaskView object (the reducer keeps unchanged ones)."""
        if view is self._view and chosen_by == self._chosen_by:
            return
        self._view, self._chosen_by = view, chosen_by
        if view is None:
            update_steady(self, Text("select a task", style="dim"))
        else:
            styles = status_styles(self.app.theme_variables)
            update_steady(self, render_task(view, styles, chosen_by))
