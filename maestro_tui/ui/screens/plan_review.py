"""PlanReviewScreen: read and edit the plan before the run starts; approve it or go back.

Every edit builds a new frozen Plan (dataclasses.replace) and is validated at once with
`validate_plan`, so the status panel always says whether the plan can run, and why not.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Footer, Label, OptionList, Static, TextArea
from textual.widgets.option_list import Option

from maestro_tui.domain.dag import topological_layers
from maestro_tui.domain.overlaps import overlap_lines
from maestro_tui.domain.plan import Plan, PlanError, Task, validate_plan
from maestro_tui.ui.screens.modals import ConfirmModal
from maestro_tui.ui.widgets.plan_table import PlanTable

_TASK_IN_PROBLEM = re.compile(r"^task '([^']+)'")


def plan_problems(plan: Plan, repo_root: Path | None) -> list[str]:
    """What stops `plan` from running, as validate_plan words it; [] when it can run."""
    if not plan.tasks:
        return ["the plan has no tasks: go back and plan again"]
    try:
        validate_plan(plan, repo_root=repo_root)
    except PlanError as exc:
        return list(exc.problems)
    return []


def faulty_tasks(plan: Plan, problems: list[str]) -> set[str]:
    """Ids of the tasks a problem names (its subject, or every task on a cycle)."""
    ids: set[str] = set()
    for problem in problems:
        if m := _TASK_IN_PROBLEM.match(problem):
            ids.add(m.group(1))
        elif problem.startswith("dependency cycle: "):
            ids.update(problem.removeprefix("dependency cycle: ").split(" -> "))
    return ids & set(plan.by_id)


def _without(task: Task, deleted: str) -> Task | None:
    """`task` once `deleted` is gone: None if it is the deleted one, else minus that dependency."""
    if task.id == deleted:
        return None
    return replace(
        task,
        depends_on=tuple(d for d in task.depends_on if d != deleted),
        after=tuple(d for d in task.after if d != deleted),
    )


class PromptEditor(ModalScreen[str | None]):
    """Edit one task's prompt; ctrl+s keeps the text, escape drops it."""

    CSS_PATH = "plan_review.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save"),
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(self, task: Task) -> None:
        super().__init__()
        self.target = task

    def compose(self) -> ComposeResult:
        with Vertical(id="prompt-dialog", classes="dialog"):
            yield Label(f"Prompt of [b]{self.target.id}[/b] — ctrl+s: keep · escape: cancel")
            yield TextArea(self.target.prompt, soft_wrap=True, id="prompt-editor")

    def action_save(self) -> None:
        self.dismiss(self.query_one(TextArea).text)

    def action_cancel(self) -> None:
        self.dismiss(None)


class TaskPicker(ModalScreen[str | None]):
    """Pick one task id from a list (enter), or cancel (escape)."""

    CSS_PATH = "plan_review.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, tasks: list[Task]) -> None:
        super().__init__()
        self.title_ = title
        self.tasks = tasks

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.title_)
            yield OptionList(
                *(Option(f"{t.id}  [dim]{t.title}[/dim]", id=t.id) for t in self.tasks)
            )

    @on(OptionList.OptionSelected)
    def _picked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)


class PlanReviewScreen(Screen[Plan | None]):
    """The plan as a table, the selected task's prompt, and whether the plan can run."""

    CSS_PATH = "plan_review.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "approve", "Approve"),
        Binding("enter", "approve", "Approve", show=False, priority=True),
        Binding("e", "edit_prompt", "Edit prompt"),
        Binding("plus", "add_dependency", "Add dep", key_display="+"),
        Binding("minus", "remove_dependency", "Remove dep", key_display="-"),
        Binding("d", "delete_task", "Delete task"),
        Binding("escape", "cancel", "Back"),
    ]

    def __init__(self, plan: Plan, repo_root: Path | None = None) -> None:
        super().__init__()
        self.plan = plan
        self.repo_root = repo_root
        self.problems: list[str] = []
        self.edits: list[str] = []

    def compose(self) -> ComposeResult:
        with Horizontal(id="plan-body"):
            with Vertical(id="plan-main"):
                yield Static(id="plan-goal")
                yield PlanTable(id="plan-table")
                yield Static(id="prompt-title")
                with VerticalScroll(id="prompt-scroll"):
                    yield Static(id="plan-prompt")
            with VerticalScroll(id="plan-status"):
                yield Static(id="plan-problems")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#plan-goal", Static).update(
            Text.assemble(("Goal  ", "bold"), self.plan.goal)
        )
        self.show_plan(self.plan)

    @property
    def table(self) -> PlanTable:
        return self.query_one(PlanTable)

    def show_plan(self, plan: Plan) -> None:
        """Make `plan` the current one: validate it, redraw the table, prompt and status."""
        self.plan = plan
        self.problems = plan_problems(plan, self.repo_root)
        self.table.show(plan, faulty_tasks(plan, self.problems))
        self._show_prompt()
        self.query_one("#plan-problems", Static).update(self._status())

    def _status(self) -> Text:
        parts: list[Text] = []
        if self.problems:
            parts.append(Text("✘ The plan cannot run yet", "bold red"))
            parts.extend(Text(f"• {p}", "red") for p in self.problems)
            parts.append(Text("\nFix these to approve it.", "dim"))
        else:
            layers = topological_layers(self.plan.graph())
            parts.append(
                Text(
                    f"✔ Ready: {len(self.plan.tasks)} task(s) in {len(layers)} layer(s)",
                    "bold green",
                )
            )
            parts.extend(Text(f"{n}. {', '.join(layer)}") for n, layer in enumerate(layers, 1))
            if overlaps := overlap_lines(self.plan):
                parts.append(Text("\nOverlaps: tasks that name a common file", "bold"))
                parts.extend(Text(f"• {line}", "yellow") for line in overlaps)
            parts.append(Text("\na or enter: approve and start", "dim"))
        if self.edits:
            parts.append(Text("\nEdits", "bold"))
            parts.extend(Text(f"• {edit}", "dim") for edit in self.edits)
        return Text("\n").join(parts)

    def _show_prompt(self) -> None:
        task = self._selected()
        title = f"Prompt of {task.id}" if task else "No task selected"
        self.query_one("#prompt-title", Static).update(Text(title, "bold"))
        self.query_one("#plan-prompt", Static).update(Text(task.prompt if task else ""))

    @on(DataTable.RowHighlighted)
    def _row_changed(self) -> None:
        self._show_prompt()

    def _selected(self) -> Task | None:
        task_id = self.table.selected_id
        return self.plan.by_id.get(task_id) if task_id else None

    def _edit(self, description: str, change: Callable[[Task], Task | None]) -> None:
        """Apply `change` to every task (None deletes it) and revalidate."""
        tasks = tuple(t for t in map(change, self.plan.tasks) if t is not None)
        self.edits.append(description)
        self.show_plan(replace(self.plan, tasks=tasks))

    def _edit_task(self, description: str, task_id: str, **changes: Any) -> None:
        """Replace fields of one task (a new frozen Task) and revalidate."""
        self._edit(description, lambda t: replace(t, **changes) if t.id == task_id else t)

    # --- keys ------------------------------------------------------------------------------

    def action_edit_prompt(self) -> None:
        task = self._selected()
        if task is None:
            return

        def edited(prompt: str | None) -> None:
            if prompt is not None and prompt != task.prompt:
                self._edit_task(f"prompt of {task.id}", task.id, prompt=prompt)

        self.app.push_screen(PromptEditor(task), edited)

    def action_add_dependency(self) -> None:
        task = self._selected()
        if task is None:
            return
        choices = [t for t in self.plan.tasks if t.id != task.id and t.id not in task.depends_on]
        if not choices:
            self.notify(f"{task.id} already depends on every other task", severity="warning")
            return

        def picked(dep: str | None) -> None:
            if dep is not None:
                deps = (*task.depends_on, dep)
                self._edit_task(f"{task.id} now depends on {dep}", task.id, depends_on=deps)

        self.app.push_screen(TaskPicker(f"{task.id} depends on…", choices), picked)

    def action_remove_dependency(self) -> None:
        task = self._selected()
        if task is None:
            return
        waits = (*task.depends_on, *task.after)
        deps = [self.plan.by_id.get(d) or Task(d, "(unknown task)", "") for d in waits]
        if not deps:
            self.notify(f"{task.id} depends on nothing", severity="warning")
            return

        def picked(dep: str | None) -> None:
            if dep is not None:
                kept = tuple(d for d in task.depends_on if d != dep)
                after = tuple(d for d in task.after if d != dep)
                how = "depends on" if dep in task.depends_on else "runs after"
                self._edit_task(
                    f"{task.id} no longer {how} {dep}", task.id, depends_on=kept, after=after
                )

        self.app.push_screen(TaskPicker(f"{task.id} no longer depends on…", deps), picked)

    def action_delete_task(self) -> None:
        task = self._selected()
        if task is None:
            return
        users = [t.id for t in self.plan.tasks if task.id in (*t.depends_on, *t.after)]
        question = f"Delete task [b]{task.id}[/b]?"
        if users:
            question += f" {', '.join(users)} will no longer depend on it."

        def answered(yes: bool | None) -> None:
            if yes:
                self._edit(f"deleted {task.id}", lambda t: _without(t, task.id))

        self.app.push_screen(ConfirmModal(question), answered)

    def action_approve(self) -> None:
        if self.problems:
            self.notify(
                f"The plan cannot run: {self.problems[0]}", title="Not approved", severity="error"
            )
            return
        self.dismiss(self.plan)

    def action_cancel(self) -> None:
        self.dismiss(None)
