"""The conflict side of the merge review: a decision per hunk, the file as it would be merged,
and decisions that survive the integration branch moving while the review is open.

MergeReviewScreen builds on this; the split keeps each part readable on its own.
"""

from __future__ import annotations

from typing import Literal

from textual.screen import Screen
from textual.widgets import ContentSwitcher

from maestro_tui.domain.state import RunState, TaskStatus
from maestro_tui.ui.resolutions import (
    FileResolution,
    HunkKey,
    TrialOutcome,
    both_overlap,
    carry_over,
)
from maestro_tui.ui.widgets.conflict_view import ConflictView, edit_in_editor
from maestro_tui.ui.widgets.resolved_view import ResolvedView
from maestro_tui.workspace.merge import ConflictFile

Pane = Literal["diff", "conflicts", "resolved"]
ReviewOutcome = Literal["approved", "rejected", "retried", "handed to its agent"]


def merged_count(state: RunState) -> int:
    """How many tasks have merged: it changes exactly when the integration branch moves."""
    return state.count(TaskStatus.MERGED)


class ConflictReviewScreen(Screen[ReviewOutcome | None]):
    """Holds the decisions; the subclass lays out the screen and talks to the engine."""

    def __init__(self) -> None:
        super().__init__()
        self.resolutions: list[FileResolution] = []
        self.conflict_index = 0
        self.changed: frozenset[HunkKey] = frozenset()  # hunks new since the review opened
        self.trial: TrialOutcome | None = None  # the last test of the merge as resolved (g)

    # --- what the subclass provides --------------------------------------------------------

    def _refresh(self) -> None:
        raise NotImplementedError

    def _update_bar(self) -> None:
        raise NotImplementedError

    # --- panes ------------------------------------------------------------------------------

    @property
    def conflict_view(self) -> ConflictView:
        return self.query_one("#conflicts", ConflictView)

    @property
    def pane(self) -> str:
        return self.query_one("#panes", ContentSwitcher).current or "diff"

    def show_pane(self, pane: Pane) -> None:
        """Show the diff, the conflicts or the resolved file, and focus it for its keys."""
        if pane == "resolved":
            current = self.resolutions[self.conflict_index] if self.resolutions else None
            self.query_one(ResolvedView).show(current)
        self.query_one("#panes", ContentSwitcher).current = pane
        self.query_one(f"#{pane}").focus()

    async def show_conflicts(self, conflicts: tuple[ConflictFile, ...]) -> None:
        """Show the conflicts to decide; decisions already taken carry over to hunks that are
        still the same, and hunks that changed are marked. With none, the diff is reviewed."""
        if self.resolutions:
            carried = carry_over(self.resolutions, conflicts)
            self.resolutions, self.changed = carried.resolutions, carried.changed
            if carried.changed:
                self.notify(
                    f"The integration branch moved: {len(carried.changed)} hunk(s) changed (↻)"
                    f" and need a decision; {carried.kept} decision(s) kept",
                    severity="warning",
                )
        else:
            self.resolutions = [FileResolution.undecided(c) for c in conflicts]
            self.changed = frozenset()
        self.conflict_index = min(self.conflict_index, max(0, len(self.resolutions) - 1))
        if self.resolutions:
            if self.pane == "diff":
                self.show_pane("conflicts")
            await self.conflict_view.show(
                self.resolutions[self.conflict_index], changed=self.changed
            )
            if self.pane == "resolved":
                self.show_pane("resolved")
        self._refresh()

    # --- decisions --------------------------------------------------------------------------

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
        hunk = res.conflict.hunks[view.hunk_index]
        res.choose(view.hunk_index, choice)
        if choice == "both" and both_overlap(hunk):
            self.notify(
                'Both sides edit the same lines: "both" keeps the two edits one after the'
                " other. v shows the result; e edits it by hand.",
                title=f"{res.path}, hunk {view.hunk_index + 1}",
                severity="warning",
            )
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

    def action_preview(self) -> None:
        """v: the current file as it would be merged (again: back to its hunks)."""
        if self.pane == "resolved":
            self.show_pane("conflicts")
        else:
            self.show_pane("resolved")
        self._update_bar()

    def first_undecided(self) -> tuple[int, int] | None:
        """(file, hunk) of the first decision still missing, saying what is missing; None when
        everything is decided. A file with no hunks cannot be decided here at all."""
        for i, res in enumerate(self.resolutions):
            if not res.conflict.hunks:
                self.notify(
                    f"{res.path} cannot be resolved here ({res.conflict.note}): "
                    "reject or retry the task",
                    severity="error",
                )
                return (i, 0)
            hunk = res.first_undecided()
            if hunk is not None:
                line = res.conflict.hunks[hunk].start_line
                self.notify(
                    f"{res.path}: hunk {hunk + 1}/{len(res.choices)} (line {line}) is "
                    "undecided: o/t/b to choose, e to edit",
                    severity="warning",
                )
                return (i, hunk)
        return None

    async def jump_to(self, file: int, hunk: int) -> None:
        self.show_pane("conflicts")
        if file != self.conflict_index or self.conflict_view.resolution is None:
            self.conflict_index = file
            await self.conflict_view.show(self.resolutions[file], changed=self.changed)
        self.conflict_view.set_hunk(hunk)
        self._update_bar()
