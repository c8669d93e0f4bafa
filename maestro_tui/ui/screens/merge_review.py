"""MergeReviewScreen: the diff viewer where the human approves, rejects or retries a held merge.

Conflicts are decided hunk by hunk (ours / theirs / both / base) or edited by hand in $EDITOR;
approving builds path -> resolved text and really merges through the orchestrator.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import ClassVar, Literal, Protocol

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import ContentSwitcher, Footer, Static

from maestro_tui.domain.state import RunState, TaskView
from maestro_tui.engine.merge_queue import MergeNeedsResolution, MergeRefused
from maestro_tui.ui.screens.modals import TextModal
from maestro_tui.ui.widgets.candidates import CandidatesPane
from maestro_tui.ui.widgets.conflict_view import (
    ConflictView,
    FileResolution,
    edit_in_editor,
    resolution_for,
)
from maestro_tui.ui.widgets.diff_view import DiffView
from maestro_tui.ui.widgets.review_panel import render_review_panel
from maestro_tui.workspace.merge import ConflictFile
from maestro_tui.workspace.repo import WorkspaceError

ReviewOutcome = Literal["approved", "rejected", "retried"]
__all__ = ["MergeReviewScreen", "ReviewOutcome", "ReviewTarget"]


class ReviewTarget(Protocol):
    """What the screen needs of the engine; `Orchestrator` provides all of it."""

    state: RunState

    async def diff_for(self, task_id: str) -> str: ...

    async def conflicts_for(self, task_id: str) -> tuple[ConflictFile, ...]: ...

    async def approve(
        self, task_id: str, resolution: str | Mapping[str, str] | None = None
    ) -> str: ...

    async def reject(self, task_id: str, reason: str = "") -> None: ...

    def retry(self, task_id: str) -> None: ...

    def pick_candidate(self, task_id: str, candidate: int) -> None: ...


class MergeReviewScreen(Screen[ReviewOutcome | None]):
    """Review one held merge: its diff or conflicts, the agent's summary, tests and reasons."""

    CSS_PATH = "merge_review.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "approve", "Approve"),
        Binding("r", "reject", "Reject"),
        Binding("R", "retry", "Retry"),
        Binding("o", "take('ours')", "Ours"),
        Binding("t", "take('theirs')", "Theirs"),
        Binding("b", "take('both')", "Both"),
        Binding("x", "take('base')", "Base", show=False),
        Binding("O", "take_all('ours')", "All ours", show=False),
        Binding("T", "take_all('theirs')", "All theirs", show=False),
        Binding("e", "edit", "Edit"),
        Binding("s", "toggle_layout", "Split"),
        Binding("d", "toggle_pane", "Diff/conflicts"),
        Binding("right_square_bracket", "file(1)", "Next file", key_display="]"),
        Binding("left_square_bracket", "file(-1)", "Prev file", key_display="[", show=False),
        Binding("n,j", "hunk(1)", "Next hunk", key_display="n"),
        Binding("N,k", "hunk(-1)", "Prev hunk", show=False),
        Binding("escape", "close", "Back"),
        Binding("1", "pick(1)", "Pick candidate", key_display="1-9"),
        *(Binding(str(n), f"pick({n})", f"Pick candidate {n}", show=False) for n in range(2, 10)),
    ]

    def __init__(self, orch: ReviewTarget, task_id: str) -> None:
        super().__init__()
        self.orch = orch
        self.task_id = task_id
        self.resolutions: list[FileResolution] = []
        self.conflict_index = 0

    def compose(self) -> ComposeResult:
        with Horizontal(id="review-body"):
            with Vertical(id="review-main"):
                yield CandidatesPane(id="candidates")
                yield Static(id="file-bar")
                with ContentSwitcher(initial="diff", id="panes"):
                    yield DiffView(id="diff")
                    yield ConflictView(id="conflicts")
            with VerticalScroll(id="review-side"):
                yield Static(id="task-panel")
        yield Footer()

    def on_mount(self) -> None:
        task = self.orch.state.tasks.get(self.task_id)
        if task is not None:
            self.show_task(task)
        self.load()

    @work(exclusive=True, group="merge-review-load", exit_on_error=False)
    async def load(self) -> None:
        """Fetch the task's diff and its conflicts with the integration branch as it is now."""
        if self.task_id not in self.orch.state.tasks:
            self.notify(f"no task '{self.task_id}' in this run", severity="error")
            return
        try:
            self.show_diff(await self.orch.diff_for(self.task_id))
            conflicts = await self.orch.conflicts_for(self.task_id)
        except KeyError as exc:  # not waiting any more (merged or rejected elsewhere)
            self.notify(str(exc.args[0]), severity="warning")
            conflicts = ()
        except (WorkspaceError, RuntimeError) as exc:  # git failed, or the branch is gone
            self.notify(str(exc), title="Cannot load the merge", severity="error")
            return
        await self.show_conflicts(conflicts)

    # --- data in (also how snapshot tests feed fixed content) -----------------------------

    @property
    def diff_view(self) -> DiffView:
        return self.query_one("#diff", DiffView)

    @property
    def conflict_view(self) -> ConflictView:
        return self.query_one("#conflicts", ConflictView)

    @property
    def pane(self) -> str:
        return self.query_one("#panes", ContentSwitcher).current or "diff"

    def show_pane(self, pane: Literal["diff", "conflicts"]) -> None:
        """Show the diff or the conflicts, and focus it so the scrolling keys reach it."""
        self.query_one("#panes", ContentSwitcher).current = pane
        self.query_one(f"#{pane}").focus()

    def show_task(self, task: TaskView) -> None:
        """Fill the side panel and, for an ensemble, the candidates pane."""
        panel = render_review_panel(task, self.resolutions)
        self.query_one("#task-panel", Static).update(panel)
        self.query_one(CandidatesPane).show(task)

    def show_diff(self, diff_text: str) -> None:
        """Show a unified diff (the task's change), one file at a time."""
        self.diff_view.load(diff_text)
        self._update_bar()

    async def show_conflicts(self, conflicts: tuple[ConflictFile, ...]) -> None:
        """Show the conflicts to decide; with none, the screen reviews the diff only."""
        self.resolutions = [FileResolution.undecided(c) for c in conflicts]
        self.conflict_index = 0
        if self.resolutions:
            self.show_pane("conflicts")
            await self.conflict_view.show(self.resolutions[0])
        self._refresh()

    def _refresh(self) -> None:
        task = self.orch.state.tasks.get(self.task_id)
        if task is not None:
            self.show_task(task)
        self._update_bar()
        self.refresh_bindings()

    def _update_bar(self) -> None:
        if self.pane == "conflicts" and self.resolutions:
            res = self.resolutions[self.conflict_index]
            n = len(res.conflict.hunks)
            where = f"hunk {self.conflict_view.hunk_index + 1}/{n}" if n else "no hunks"
            bar = (
                f"conflicts · file {self.conflict_index + 1}/{len(self.resolutions)} · "
                f"{res.path} · {where} · {res.status()}"
            )
        else:
            view = self.diff_view
            current = view.current
            bar = "diff · no changes"
            if current is not None:
                bar = (
                    f"diff · file {view.file_index + 1}/{len(view.files)} · {current.path} · "
                    f"+{current.insertions} −{current.deletions} · {view.diff_layout}"
                )
        self.query_one("#file-bar", Static).update(bar)

    @on(DiffView.FileShown)
    def _file_shown(self) -> None:
        self._update_bar()

    # --- keys ------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("take", "take_all", "edit", "toggle_pane") and not self.resolutions:
            return None  # shown disabled: nothing conflicts
        if action == "pick":
            task = self.orch.state.tasks.get(self.task_id)
            return task is not None and bool(task.candidates)  # hidden unless an ensemble
        return True

    def action_pick(self, candidate: int) -> None:
        """1-9: merge this candidate's result instead, then review its diff and conflicts."""
        task = self.orch.state.tasks.get(self.task_id)
        if task is None:
            return
        if task.chosen_candidate == candidate:
            self.notify(f"candidate {candidate} is already the one under review")
            return
        try:
            self.orch.pick_candidate(self.task_id, candidate)
        except (KeyError, ValueError) as exc:
            self.notify(str(exc.args[0]), title="Not picked", severity="warning")
            return
        self.resolutions = []  # decisions were about the other candidate's conflicts
        self.show_pane("diff")
        self._refresh()
        self.notify(f"candidate {candidate} picked: its diff and conflicts are loading")
        self.load()

    def action_toggle_layout(self) -> None:
        """Unified <-> side by side; shows the diff if the conflicts were showing."""
        if self.pane == "diff":
            view = self.diff_view
            view.set_layout("split" if view.diff_layout == "unified" else "unified")
        self.show_pane("diff")
        self._update_bar()

    def action_toggle_pane(self) -> None:
        self.show_pane("diff" if self.pane == "conflicts" else "conflicts")
        self._update_bar()

    async def action_file(self, delta: int) -> None:
        if self.pane == "conflicts":
            index = max(0, min(self.conflict_index + delta, len(self.resolutions) - 1))
            if index != self.conflict_index:
                self.conflict_index = index
                await self.conflict_view.show(self.resolutions[index])
        else:
            self.diff_view.show_file(self.diff_view.file_index + delta)
        self._update_bar()

    def action_hunk(self, delta: int) -> None:
        if self.pane == "conflicts":
            self.conflict_view.set_hunk(self.conflict_view.hunk_index + delta)
        else:
            self.diff_view.step_hunk(delta)
        self._update_bar()

    def _show_conflicts_pane(self) -> FileResolution:
        self.show_pane("conflicts")
        return self.resolutions[self.conflict_index]

    async def action_take(self, choice: str) -> None:
        """Decide the current hunk, then move to the file's next hunk."""
        res = self._show_conflicts_pane()
        if not res.conflict.hunks:
            self.notify(
                f"{res.path} has no hunks to choose: {res.conflict.note}", severity="warning"
            )
            return
        view = self.conflict_view
        res.choose(view.hunk_index, choice)
        view.refresh_choices()
        view.set_hunk(view.hunk_index + 1)
        self._refresh()

    async def action_take_all(self, choice: str) -> None:
        """Decide every hunk of the current file the same way."""
        res = self._show_conflicts_pane()
        for i in range(len(res.conflict.hunks)):
            res.choose(i, choice)
        self.conflict_view.refresh_choices()
        self._refresh()

    def action_edit(self) -> None:
        """Resolve the current file by hand in $EDITOR; markers left behind are refused."""
        res = self.resolutions[self.conflict_index]
        if not res.conflict.hunks:
            self.notify(f"{res.path} has no text to edit: {res.conflict.note}", severity="warning")
            return
        try:
            current = res.conflict.text if res.manual is None else res.manual
            text = edit_in_editor(self.app, current, res.path)
            res.set_manual(text)
        except (OSError, ValueError) as exc:
            self.notify(str(exc), title="Not resolved", severity="error")
            return
        self.show_pane("conflicts")
        self.conflict_view.refresh_choices()
        self._refresh()

    def action_approve(self) -> None:
        """Merge; conflicts need every hunk decided (the notification names the first one left)."""
        for i, res in enumerate(self.resolutions):
            if not res.conflict.hunks:
                self.notify(
                    f"{res.path} cannot be resolved here ({res.conflict.note}): "
                    "reject or retry the task",
                    severity="error",
                )
                return
            hunk = res.first_undecided()
            if hunk is not None:
                line = res.conflict.hunks[hunk].start_line
                self.notify(
                    f"{res.path}: hunk {hunk + 1}/{len(res.choices)} (line {line}) is "
                    "undecided: o/t/b to choose, e to edit",
                    severity="warning",
                )
                self.call_next(self._jump_to, i, hunk)
                return
        self._decide(self._approve, "approved")

    async def _jump_to(self, file: int, hunk: int) -> None:
        self.show_pane("conflicts")
        if file != self.conflict_index or self.conflict_view.resolution is None:
            self.conflict_index = file
            await self.conflict_view.show(self.resolutions[file])
        self.conflict_view.set_hunk(hunk)
        self._update_bar()

    async def _approve(self) -> bool:
        if self.resolutions:
            fresh = await self.orch.conflicts_for(self.task_id)
            if fresh != tuple(r.conflict for r in self.resolutions):
                await self.show_conflicts(fresh)
                self.notify(
                    "The integration branch moved and the conflicts changed: decide them again",
                    severity="warning",
                )
                return False
            await self.orch.approve(self.task_id, resolution_for(self.resolutions))
        else:
            await self.orch.approve(self.task_id)
        return True

    def action_reject(self) -> None:
        def rejected(reason: str | None) -> None:
            if reason is not None:
                self._decide(lambda: self._reject(reason), "rejected")

        question = (
            f"Reject task [b]{self.task_id}[/b]? Its branch is kept for inspection.\n"
            "Why (optional; kept in the run's history):"
        )
        self.app.push_screen(TextModal(question), rejected)

    async def _reject(self, reason: str) -> bool:
        await self.orch.reject(self.task_id, reason)
        return True

    def action_retry(self) -> None:
        """Drop this result; the task runs again on the integration branch as it is now."""
        try:
            self.orch.retry(self.task_id)
        except KeyError as exc:
            self.notify(str(exc.args[0]), severity="error")
            return
        self.dismiss("retried")

    def action_close(self) -> None:
        self.dismiss(None)

    @work(exclusive=True, group="merge-review-decide", exit_on_error=False)
    async def _decide(self, step: Callable[[], Awaitable[bool]], outcome: ReviewOutcome) -> None:
        """Run an approve/reject against the engine; errors become notifications."""
        try:
            done = await step()
        except MergeNeedsResolution as exc:
            self.notify(str(exc), severity="warning")
            await self.show_conflicts(await self.orch.conflicts_for(self.task_id))
            return
        except (KeyError, ValueError, WorkspaceError, MergeRefused) as exc:
            message = exc.args[0] if isinstance(exc, KeyError) else str(exc)
            self.notify(str(message), title="Not merged", severity="error")
            return
        if done:
            self.dismiss(outcome)
