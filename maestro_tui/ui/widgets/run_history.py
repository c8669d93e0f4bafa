"""RunHistory: the table of past runs, newest first, from Store.list_runs."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta, tzinfo
from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import DataTable, Static

from maestro_tui.session.liveness import STOPPED, truthful
from maestro_tui.store import RunSummary, Store, StoreError

# A run the store calls running but no process drives reads STOPPED (session/liveness.py);
# one that is driven can be attached to (Enter) and is not offered for resuming.
RESUMABLE = frozenset({"interrupted", "waiting", STOPPED})
STATUS_COLOUR = {  # theme variables
    "succeeded": "text-success",
    "running": "text-primary",
    "planning": "text-primary",
    "waiting": "text-warning",
    "interrupted": "text-warning",
    STOPPED: "text-warning",
    "failed": "text-error",
    "unchanged": "text-error",  # its agents changed none of the files they were to change
    "cancelled": "text-error",
}
GOAL_WIDTH = 27
EMPTY = (
    "No runs yet.\n\n"
    "Type a goal in the form and press Start (or Enter) to begin one. From a shell:\n"
    '  maestro-tui run "add a --json flag" --model demo\n\n'
    "Finished and interrupted runs show up here; open one to replay it."
)


def short(text: str, width: int) -> str:
    """One line of at most `width` characters, with "…" if cut."""
    line = " ".join(text.split())
    return line if len(line) <= width else line[: width - 1] + "…"


def when(created_at: float, now: datetime, tz: tzinfo | None) -> str:
    """Local time of a run: "today 14:03", "yesterday 09:12" or "2025-03-01 12:00"."""
    at = datetime.fromtimestamp(created_at, tz)
    day = at.date()
    if day == now.date():
        return f"today {at:%H:%M}"
    if day == now.date() - timedelta(days=1):
        return f"yesterday {at:%H:%M}"
    return f"{at:%Y-%m-%d %H:%M}"


def duration(seconds: float | None) -> str:
    """ "42s", "3m05s" or "2h04m"; "–" if unknown."""
    if seconds is None:
        return "–"
    s = int(seconds)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{s % 3600 // 60:02d}m"


def tokens(n: int) -> str:
    """Compact token counts: 950, 12.3k, 4.1M."""
    if n < 1000:
        return str(n)
    if n < 1_000_000:
        return f"{n / 1000:.1f}k"
    return f"{n / 1_000_000:.1f}M"


def cost(run: RunSummary, warning: str = "") -> Text:
    """ "$0.05", "*" when some calls had no known price, and "sim" (italic) when the prices
    were the demo model's simulated ones, as the dashboard labels them."""
    text = Text(f"${run.cost_usd:.2f}" + ("*" if run.unpriced_calls else ""))
    if run.cost_simulated:
        text.append(" sim", style=f"italic {warning}".strip())
    return text


class RunHistory(Vertical):
    """Past runs: Enter or `r` replays the highlighted one, `u` resumes it if it can be."""

    DEFAULT_CSS = """
    RunHistory { height: 1fr; }
    RunHistory > DataTable { height: 1fr; }
    RunHistory > #history-empty { padding: 1 2; color: $foreground-muted; display: none; }
    RunHistory.-empty > DataTable { display: none; }
    RunHistory.-empty > #history-empty { display: block; }
    """

    BINDINGS = [
        Binding("r", "replay", "replay"),
        Binding("u", "resume", "resume"),
        Binding("space", "mark", "mark"),
        Binding("c", "compare", "compare marked"),
    ]

    class ReplayChosen(Message):
        """The user asked to replay this run (Enter or `r` on its row)."""

        def __init__(self, run_id: str) -> None:
            super().__init__()
            self.run_id = run_id

    class ResumeChosen(Message):
        """The user asked to resume this interrupted or waiting run (`u` on its row)."""

        def __init__(self, run_id: str) -> None:
            super().__init__()
            self.run_id = run_id

    class CompareChosen(Message):
        """The user asked to compare these runs (marked with space, then `c`), oldest first."""

        def __init__(self, run_ids: list[str]) -> None:
            super().__init__()
            self.run_ids = run_ids

    class Loaded(Message):
        """The runs were read from the store (an empty list: there are none yet)."""

        def __init__(self, runs: Sequence[RunSummary]) -> None:
            super().__init__()
            self.runs = list(runs)

    def __init__(
        self,
        db_path: Path | None = None,
        *,
        now: datetime | None = None,
        tz: tzinfo | None = None,
        id: str | None = None,
    ) -> None:
        """`now` and `tz` fix "today" and the time zone (for tests); default: the clock, local."""
        super().__init__(id=id)
        self.db_path = db_path
        self._now = now
        self._tz = tz
        self._runs: dict[str, RunSummary] = {}
        self.marked: list[str] = []  # runs marked for comparing, in the order marked

    def compose(self) -> ComposeResult:
        table: DataTable[str | Text] = DataTable(cursor_type="row", zebra_stripes=True)
        table.add_columns("goal", "when", "duration", "ok/failed", "tokens", "cost", "status")
        yield table
        yield Static(EMPTY, id="history-empty")

    def on_mount(self) -> None:
        self.border_title = "past runs"
        self.app.theme_changed_signal.subscribe(
            self, lambda _: self.show(list(self._runs.values()))
        )
        if self.db_path is not None:
            self.load()

    @property
    def table(self) -> DataTable[str | Text]:
        return self.query_one(DataTable)

    @work(exclusive=True, group="run-history")
    async def load(self) -> None:
        """Read the runs from the store and show them."""
        assert self.db_path is not None
        try:
            store = await Store.open(self.db_path)
        except StoreError as exc:
            self.notify(str(exc), title="cannot read past runs", severity="error")
            self.show([])
            return
        try:
            runs = truthful(await store.list_runs(), self.db_path)  # running: only while driven
        finally:
            await store.close()
        self.show(runs)
        self.post_message(self.Loaded(runs))

    def show(self, runs: Sequence[RunSummary]) -> None:
        """Replace the rows with these runs (newest first, as list_runs gives them)."""
        now = self._now or datetime.now(self._tz)
        colours = self.app.get_css_variables()
        table = self.table
        table.clear()
        self._runs = {run.run_id: run for run in runs}
        self.marked = [r for r in self.marked if r in self._runs]
        for run in runs:
            status = colours.get(STATUS_COLOUR.get(run.status, ""), "")
            table.add_row(
                self._goal(run),
                when(run.created_at, now, self._tz),
                duration(run.duration_s),
                Text.assemble(
                    (str(run.tasks_ok), colours.get("text-success", "")),
                    " / ",
                    (
                        str(run.tasks_failed),
                        colours.get("text-error", "") if run.tasks_failed else "",
                    ),
                ),
                tokens(run.tokens_in + run.tokens_out),
                cost(run, colours.get("text-warning", "")),
                Text(run.status, style=status),
                key=run.run_id,
            )
        self.set_class(not runs, "-empty")

    def _goal(self, run: RunSummary) -> str:
        """The goal, marked "●" when marked for comparing and "↻" when it is a re-run."""
        goal = run.goal or "(no goal)"
        goal = goal if run.kind == "run" else f"{run.kind} · {goal}"
        goal = f"↻ {goal}" if run.rerun_of else goal
        return short(f"● {goal}" if run.run_id in self.marked else goal, GOAL_WIDTH)

    def action_mark(self) -> None:
        """space: mark the highlighted run for comparing, or unmark it."""
        run = self.highlighted
        if run is None:
            return
        if run.run_id in self.marked:
            self.marked.remove(run.run_id)
        else:
            self.marked.append(run.run_id)
        table = self.table
        table.update_cell(run.run_id, table.ordered_columns[0].key, self._goal(run))

    def action_compare(self) -> None:
        """c: compare the marked runs (the highlighted one too, when only one is marked)."""
        chosen = list(self.marked)
        run = self.highlighted
        if len(chosen) == 1 and run is not None and run.run_id not in chosen:
            chosen.append(run.run_id)
        if len(chosen) < 2:
            self.notify("mark two runs or more with space, then c", severity="warning")
            return
        chosen.sort(key=lambda r: (self._runs[r].created_at, r))  # the older one first
        self.post_message(self.CompareChosen(chosen))

    @property
    def highlighted(self) -> RunSummary | None:
        """The run under the cursor, if any."""
        table = self.table
        if not self._runs or table.row_count == 0:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return self._runs.get(key or "")

    @on(DataTable.RowSelected)
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_replay()

    def action_replay(self) -> None:
        run = self.highlighted
        if run is not None:
            self.post_message(self.ReplayChosen(run.run_id))

    def action_resume(self) -> None:
        run = self.highlighted
        if run is None:
            return
        if run.kind != "run":
            self.notify(
                "an MCP session has nothing to resume: Enter replays it", severity="warning"
            )
            return
        if run.status not in RESUMABLE:
            self.notify(
                f"run {run.status}: only interrupted or waiting runs can be resumed",
                severity="warning",
            )
            return
        self.post_message(self.ResumeChosen(run.run_id))
