"""CompareScreen: runs marked in the launcher, side by side per task and in total, and the
selected task's results compared (the first run's against each other's)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from rich.console import Group
from rich.syntax import Syntax
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from maestro_tui.domain.comparison import Comparison, RunTotals
from maestro_tui.domain.outcomes import TaskOutcome
from maestro_tui.session.comparison import Diffs, load_comparison, result_diffs
from maestro_tui.store.records import RunSummary

# Per run: outcome, the merged tree's tests, fix rounds, human decisions, diff, tokens, cost,
# wall time (domain/outcomes.py defines each).
PER_RUN = ("outcome", "tests", "fix", "hum", "diff", "tokens", "cost", "time")
TOTAL = "Σ total"


def cells(o: TaskOutcome | None) -> tuple[str | Text, ...]:
    """One run's cells for a task (see domain/outcomes.py for what each figure means)."""
    if o is None:
        return ("–",) * len(PER_RUN)
    if o.taken_over:
        return (Text("taken over", style="italic"), *("",) * (len(PER_RUN) - 1))
    outcome = o.status + (" ✓" if o.status == "merged" else "")
    if o.first_try_green is False:
        outcome += " (red first)"
    gate = "–"
    if o.gate:
        gate = f"✓ {o.gate_n_passed or 0}" if o.gate == "passed" else f"✗ {o.gate_n_failed or 0}"
    return (
        outcome,
        gate,
        "?" if o.fix_rounds is None else str(o.fix_rounds),
        str(o.interventions),
        f"{o.files}f +{o.lines}" if o.commit else "–",
        f"{o.tokens_in + o.tokens_out:,}",
        f"${o.cost_usd:.4f}",
        "–" if o.wall_s is None else f"{o.wall_s:.1f}s",
    )


def total_cells(t: RunTotals) -> tuple[str, ...]:
    merged = f"{t.merged}/{t.tasks} merged" + (f", {t.taken_over} kept" if t.taken_over else "")
    return (
        merged,
        f"{t.gate_passed} ✓ {t.gate_failed} ✗",
        str(t.fix_rounds),
        str(t.interventions),
        f"{t.files}f +{t.lines}",
        f"{t.tokens_in + t.tokens_out:,}",
        f"${t.cost_usd:.4f}" + (" sim" if t.simulated else ""),
        "–" if t.wall_s is None else f"{t.wall_s:.1f}s",
    )


class CompareScreen(Screen[None]):
    """Runs side by side; moving along the tasks shows each one's results compared."""

    DEFAULT_CSS = """
    CompareScreen > #compare-runs { height: auto; padding: 0 1; }
    CompareScreen > DataTable { height: 1fr; }
    CompareScreen > #compare-diff { height: 1fr; border-top: solid $primary 40%; }
    CompareScreen #compare-diff-text { padding: 0 1; }
    """
    BINDINGS = [Binding("q,escape", "close", "close")]

    def __init__(self, db_path: Path, run_ids: list[str]) -> None:
        super().__init__()
        self.db_path, self.run_ids = db_path, run_ids
        self.runs: list[RunSummary] = []
        self.comparison: Comparison | None = None
        self.diffs: Diffs = {}

    def compose(self) -> ComposeResult:
        yield Static("reading the runs …", id="compare-runs")
        yield DataTable(cursor_type="row", zebra_stripes=True)
        with VerticalScroll(id="compare-diff"):
            yield Static("", id="compare-diff-text")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "compare " + " · ".join(self.run_ids)
        self.load()

    @work(exclusive=True, group="compare", exit_on_error=False)
    async def load(self) -> None:
        try:
            self.runs, self.comparison = await load_comparison(self.db_path, self.run_ids)
            self.diffs = await asyncio.to_thread(result_diffs, self.runs, self.comparison)
        except Exception as exc:  # noqa: BLE001 - said on the screen, which the user leaves
            self.query_one("#compare-runs", Static).update(f"cannot compare: {exc}")
            return
        self.show()

    def show(self) -> None:
        c = self.comparison
        assert c is not None
        letters = [chr(65 + i) for i in range(len(self.runs))]
        about = [
            f"[b]{letter}[/b] {r.run_id} · {r.status}"
            + (f" · re-run of {r.rerun_of}" if r.rerun_of else "")
            for letter, r in zip(letters, self.runs, strict=True)
        ]
        self.query_one("#compare-runs", Static).update("\n".join(about))
        table = self.query_one(DataTable)
        table.clear(columns=True)
        table.add_column("task", key="task")
        for letter in letters:
            for name in PER_RUN:
                table.add_column(f"{letter} {name}")
        for row in c.rows:
            values = [v for o in row.outcomes for v in cells(o)]
            table.add_row(f"{row.task_id} ({row.role})", *values, key=row.task_id)
        table.add_row(TOTAL, *(v for t in c.totals for v in total_cells(t)), key=TOTAL)
        table.focus()

    @on(DataTable.RowHighlighted)
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.show_diff(event.row_key.value or "")

    def show_diff(self, task_id: str) -> None:
        """The selected task's results: the first run's against each other run's."""
        shown = self.query_one("#compare-diff-text", Static)
        parts: list[Text | Syntax] = []
        for j in range(1, len(self.runs)):
            label = f"{task_id}: A → {chr(65 + j)}"
            found = self.diffs.get((task_id, j))
            if found is None:
                parts.append(Text(f"{label}: no two results to compare", style="dim"))
                continue
            text, same_base = found
            if not text:
                parts.append(Text(f"{label}: the same change", style="bold"))
                continue
            note = "" if same_base else " (on different bases: other tasks' work shows too)"
            parts.append(Text(f"{label}: the changes differ{note}", style="bold"))
            parts.append(Syntax(text, "diff", theme="ansi_dark", word_wrap=False))
        if task_id == TOTAL or not parts:
            parts = [Text("move to a task to see its results compared", style="dim")]
        shown.update(Group(*parts))

    def action_close(self) -> None:
        """Back to the launcher; quit if it is the only screen."""
        if len(self.app.screen_stack) > 1:
            self.dismiss()
        else:
            self.app.exit()
