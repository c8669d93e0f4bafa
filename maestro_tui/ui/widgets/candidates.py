"""CandidatesPane: an ensemble task's candidates side by side, the chosen one marked."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from maestro_tui.domain.state import TaskView


@dataclass(frozen=True)
class CandidateExtra:
    """What CandidateFinished says beyond TaskView.candidates, when the caller has the events."""

    n_passed: int | None = None
    n_failed: int | None = None
    model: str = ""


def _tests(ok: bool | None, extra: CandidateExtra | None) -> Text:
    if ok is None:
        return Text("tests not run", style="dim")
    counts = ""
    if extra is not None and (extra.n_passed is not None or extra.n_failed is not None):
        counts = f" {extra.n_passed or 0} passed, {extra.n_failed or 0} failed"
    return Text(("✓" if ok else "✗") + counts, style="green" if ok else "red")


def render_candidates(task: TaskView, extras: Mapping[int, CandidateExtra] | None = None) -> Table:
    """One column per candidate: its number and key, tests, lines changed, model, the pick."""
    extras = extras or {}
    table = Table(box=None, padding=(0, 2), show_edge=False, expand=False)
    rows: list[list[Text]] = [[], [], []]
    for index, commit, ok, lines in task.candidates:
        chosen = index == task.chosen_candidate
        head = Text(f"[{index}] candidate {index}", style="bold" if commit else "dim")
        if chosen:
            head.append(" ★ chosen", style="bold green")
        table.add_column(head, no_wrap=True)
        extra = extras.get(index)
        rows[0].append(_tests(ok, extra) if commit else Text("no result", style="dim"))
        rows[1].append(Text(f"{lines} line{'s' if lines != 1 else ''} changed"))
        rows[2].append(Text(extra.model if extra and extra.model else "", style="dim italic"))
    for row in rows if any(r.plain for r in rows[2]) else rows[:2]:
        table.add_row(*row)
    return table


class CandidatesPane(Static):
    """The candidates of the task under review; hidden for tasks that are not ensembles."""

    DEFAULT_CSS = """
    CandidatesPane {
        height: auto; padding: 0 1; display: none;
        border: round $secondary 60%; border-title-color: $text;
    }
    CandidatesPane.-shown { display: block; }
    """

    def show(
        self, task: TaskView | None, extras: Mapping[int, CandidateExtra] | None = None
    ) -> None:
        has = task is not None and bool(task.candidates)
        self.set_class(has, "-shown")
        if task is not None and has:
            last = max(index for index, *_ in task.candidates)
            self.border_title = f"candidates · 1-{last} to pick"
            self.update(render_candidates(task, extras))
