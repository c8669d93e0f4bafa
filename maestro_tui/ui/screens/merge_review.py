"""MergeReviewScreen: the diff viewer where the human approves, rejects or retries a held merge.

Conflicts are decided hunk by hunk (ours / theirs / both / base) or edited by hand in $EDITOR;
approving builds path -> resolved text and really merges through the orchestrator.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import ClassVar, Protocol

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import ContentSwitcher, Footer, Static

from maestro_tui.domain.state import RunState, TaskView
from maestro_tui.engine.merge import MergeNeedsResolution, MergeRefused, Resolution, TrialMerge
from maestro_tui.ui.resolutions import TrialOutcome, resolution_for
from maestro_tui.ui.screens.conflict_review import ConflictReviewScreen, ReviewOutcome, merged_count
from maestro_tui.ui.screens.modals import TextModal
from maestro_tui.ui.widgets.candidates import CandidatesPane
from maestro_tui.ui.widgets.conflict_view import ConflictView
from maestro_tui.ui.widgets.diff_view import DiffView
from maestro_tui.ui.widgets.resolved_view import ResolvedView
from maestro_tui.ui.widgets.review_panel import render_review_panel
from maestro_tui.workspace.merge import ConflictFile
from maestro_tui.workspace.repo import WorkspaceError

__all__ = ["MergeReviewScreen", "ReviewDecisions", "ReviewOutcome", "ReviewTarget"]
BRANCH_CHECK_S = 0.5


class ReviewDecisions(Protocol):
    """The decisions the screen takes on a waiting merge; `Orchestrator.merges` takes them."""

    async def diff_for(self, task_id: str) -> str: ...

    async def conflicts_for(self, task_id: str) -> tuple[ConflictFile, ...]: ...

    async def approve(
        self, task_id: str, resolution: str | Mapping[str, str] | None = None
    ) -> str: ...

    async def reject(self, task_id: str, reason: str = "") -> None: ...

    async def retry(self, task_id: str) -> None: ...

    async def pick_candidate(self, task_id: str, candidate: int) -> None: ...

    async def trial(self, task_id: str, resolution: Resolution = None) -> TrialMerge: ...

    async def resolve_with_agent(self, task_id: str) -> None: ...


class ReviewTarget(Protocol):
    """What the screen needs of the run: its state as it is now, and the decisions on its
    merges; a front end's RunHandle provides both, wherever the engine runs."""

    @property
    def state(self) -> RunState: ...

    @property
    def merges(self) -> ReviewDecisions: ...


class MergeReviewScreen(ConflictReviewScreen):
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
        Binding("v", "preview", "Result"),
        Binding("g", "test_resolution", "Test", tooltip="test the merge as resolved"),
        Binding("h", "hand_to_agent", "Agent", tooltip="hand the conflict to the task's agent"),
        Binding("s", "toggle_layout", "Split", show=False, tooltip="diff side by side or not"),
        Binding("d", "toggle_pane", "Diff"),
        Binding("right_square_bracket", "file(1)", "File", key_display="]"),
        Binding("left_square_bracket", "file(-1)", "Prev file", key_display="[", show=False),
        Binding("n,j", "hunk(1)", "Hunk", key_display="n"),
        Binding("N,k", "hunk(-1)", "Prev hunk", show=False),
        Binding("escape", "close", "Back"),
        Binding("1", "pick(1)", "Pick candidate", key_display="1-9"),
        *(Binding(str(n), f"pick({n})", f"Pick candidate {n}", show=False) for n in range(2, 10)),
    ]

    def __init__(self, orch: ReviewTarget, task_id: str) -> None:
        super().__init__()
        self.orch = orch
        self.task_id = task_id
        self._merged = merged_count(orch.state)

    def compose(self) -> ComposeResult:
        with Horizontal(id="review-body"):
            with Vertical(id="review-main"):
                yield CandidatesPane(id="candidates")
                yield Static(id="file-bar")
                with ContentSwitcher(initial="diff", id="panes"):
                    yield DiffView(id="diff")
                    yield ConflictView(id="conflicts")
                    yield ResolvedView(id="resolved")
            with VerticalScroll(id="review-side"):
                yield Static(id="task-panel")
        yield Footer()

    def on_mount(self) -> None:
        task = self.orch.state.tasks.get(self.task_id)
        if task is not None:
            self.show_task(task)
        self.load()
        self.set_interval(BRANCH_CHECK_S, self._branch_moved)

    def _branch_moved(self) -> None:
        """Other merges land while the review is open: reload, keeping the decisions."""
        merged = merged_count(self.orch.state)
        if merged != self._merged:
            self._merged = merged
            self.load()

    @work(exclusive=True, group="merge-review-load", exit_on_error=False)
    async def load(self) -> None:
        """Fetch the task's diff and its conflicts with the integration branch as it is now."""
        if self.task_id not in self.orch.state.tasks:
            self.notify(f"no task '{self.task_id}' in this run", severity="error")
            return
        try:
            self.show_diff(await self.orch.merges.diff_for(self.task_id))
            conflicts = await self.orch.merges.conflicts_for(self.task_id)
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

    def show_task(self, task: TaskView) -> None:
        """Fill the side panel and, for an ensemble, the candidates pane."""
        panel = render_review_panel(task, self.resolutions, self.trial)
        self.query_one("#task-panel", Static).update(panel)
        self.query_one(CandidatesPane).show(task)

    def show_diff(self, diff_text: str) -> None:
        """Show a unified diff (the task's change), one file at a time."""
        self.diff_view.load(diff_text)
        self._update_bar()

    def _refresh(self) -> None:
        task = self.orch.state.tasks.get(self.task_id)
        if task is not None:
            self.show_task(task)
        self._update_bar()
        self.refresh_bindings()

    def _update_bar(self) -> None:
        if self.pane != "diff" and self.resolutions:
            res = self.resolutions[self.conflict_index]
            n = len(res.conflict.hunks)
            where = f"hunk {self.conflict_view.hunk_index + 1}/{n}" if n else "no hunks"
            if self.pane == "resolved":
                where = "as it would be merged (v: back to the hunks)"
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
        if (
            action in ("take", "take_all", "edit", "toggle_pane", "preview")
            and not self.resolutions
        ):
            return None  # shown disabled: nothing conflicts
        if action == "pick":
            task = self.orch.state.tasks.get(self.task_id)
            return task is not None and bool(task.candidates)  # hidden unless an ensemble
        return True

    async def action_pick(self, candidate: int) -> None:
        """1-9: merge this candidate's result instead, then review its diff and conflicts."""
        task = self.orch.state.tasks.get(self.task_id)
        if task is None:
            return
        if task.chosen_candidate == candidate:
            self.notify(f"candidate {candidate} is already the one under review")
            return
        try:
            await self.orch.merges.pick_candidate(self.task_id, candidate)
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
        self.show_pane("conflicts" if self.pane == "diff" else "diff")
        self._update_bar()

    async def action_file(self, delta: int) -> None:
        if self.pane != "diff":
            index = max(0, min(self.conflict_index + delta, len(self.resolutions) - 1))
            if index != self.conflict_index:
                self.conflict_index = index
                await self.conflict_view.show(self.resolutions[index], changed=self.changed)
                if self.pane == "resolved":
                    self.show_pane("resolved")
        else:
            self.diff_view.show_file(self.diff_view.file_index + delta)
        self._update_bar()

    def action_hunk(self, delta: int) -> None:
        if self.pane == "conflicts":
            self.conflict_view.set_hunk(self.conflict_view.hunk_index + delta)
        else:
            self.diff_view.step_hunk(delta)
        self._update_bar()

    def action_approve(self) -> None:
        """Merge; conflicts need every hunk decided (the notification names the first one left)."""
        missing = self.first_undecided()
        if missing is not None:
            self.call_next(self.jump_to, *missing)
            return
        self._decide(self._approve, "approved")

    async def _approve(self) -> bool:
        """Approve what was decided, against the integration branch as it is now: if it moved,
        decisions on hunks that did not change still apply, and only new hunks stop it. A
        resolution already tested red (g) is refused at once: the gate would refuse it too."""
        resolution = resolution_for(self.resolutions) if self.resolutions else None
        if self.trial is not None and self.trial.red_for(resolution):
            self.notify(
                "this resolution fails the tests (g): edit it (e), retry the task (R) or hand"
                " the conflict to its agent (h)",
                title="Not merged",
                severity="error",
            )
            return False
        if self.resolutions:
            fresh = await self.orch.merges.conflicts_for(self.task_id)
            if fresh != tuple(r.conflict for r in self.resolutions):
                await self.show_conflicts(fresh)
                missing = self.first_undecided()
                if missing is not None:
                    await self.jump_to(*missing)
                    return False
            if self.resolutions:
                await self.orch.merges.approve(self.task_id, resolution_for(self.resolutions))
                return True
        await self.orch.merges.approve(self.task_id)
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
        await self.orch.merges.reject(self.task_id, reason)
        return True

    def action_test_resolution(self) -> None:
        """g: test the merge as decided so far, on the branch as it is now; nothing lands."""
        missing = self.first_undecided()
        if missing is not None:
            self.call_next(self.jump_to, *missing)
            return
        self.notify("testing the merge as resolved…", timeout=3)
        self._run_trial()

    @work(exclusive=True, group="merge-review-trial", exit_on_error=False)
    async def _run_trial(self) -> None:
        resolution = resolution_for(self.resolutions) if self.resolutions else None
        try:
            trial = await self.orch.merges.trial(self.task_id, resolution)
        except (KeyError, ValueError, WorkspaceError, MergeNeedsResolution) as exc:
            message = exc.args[0] if isinstance(exc, KeyError) else str(exc)
            self.notify(str(message), title="Not tested", severity="error")
            return
        self.trial = TrialOutcome.of(resolution, trial.result)
        self._refresh()
        if trial.result.passed:
            self.notify(f"the tests pass as resolved: {self.trial.detail}", title="Green")
        else:
            self.notify(
                f"the tests fail as resolved ({self.trial.detail}): edit (e), retry (R) or hand"
                " it to its agent (h)",
                title="Red: it cannot land",
                severity="error",
            )

    def action_hand_to_agent(self) -> None:
        """h: the task's agent resolves the conflict on the branch as it is now (a fix round)."""
        self._decide(self._hand_over, "handed to its agent")

    async def _hand_over(self) -> bool:
        await self.orch.merges.resolve_with_agent(self.task_id)
        return True

    async def action_retry(self) -> None:
        """Drop this result; the task runs again on the integration branch as it is now."""
        try:
            await self.orch.merges.retry(self.task_id)
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
            await self.show_conflicts(await self.orch.merges.conflicts_for(self.task_id))
            return
        except (KeyError, ValueError, WorkspaceError, MergeRefused) as exc:
            message = exc.args[0] if isinstance(exc, KeyError) else str(exc)
            self.notify(str(message), title="Not merged", severity="error")
            return
        if done:
            self.dismiss(outcome)
