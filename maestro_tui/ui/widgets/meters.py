"""Meters: tokens, money against the budget, coordination metrics, per-model usage, tokens/s
and progress with ETA."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import DataTable, ProgressBar, Sparkline, Static

from maestro_tui.domain import events as ev
from maestro_tui.domain.state import RunState, TaskStatus
from maestro_tui.ui.widgets.run_metrics import RunMetricsLine
from maestro_tui.ui.widgets.steady import update_steady

WINDOW_S = 60  # the sparkline shows tokens/s over the last minute of the run's own clock
_DONE = (TaskStatus.MERGED, TaskStatus.DONE)
_FINISHED = (*_DONE, TaskStatus.WAITING, TaskStatus.MERGING)


def _duration(seconds: float) -> str:
    seconds = max(0, int(seconds))
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    if seconds >= 60:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds}s"


def eta_seconds(state: RunState) -> float | None:
    """Remaining tasks × mean task duration ÷ concurrency, plus one test run of the base for
    the last merge's gate; None before any task has finished."""
    spans = [
        t.finished_ts - t.started_ts
        for t in state.tasks.values()
        if t.status in _FINISHED and t.started_ts is not None and t.finished_ts is not None
    ]
    if not spans:
        return None
    left = sum(
        1
        for t in state.tasks.values()
        if not t.status.settled and t.status not in (TaskStatus.WAITING, TaskStatus.MERGING)
    )
    agents = (sum(spans) / len(spans)) * left / max(1, state.max_agents)
    return agents + (state.test_run_s or 0.0) if left else agents


def summary_text(state: RunState) -> Text:
    """The meters' text lines (pure)."""
    text = Text()
    total = len(state.tasks)
    done = state.count(*_DONE)
    text.append("tasks ", style="dim")
    text.append(f"{done}/{total} done", style="bold")
    running, waiting = state.count(TaskStatus.RUNNING), state.count(TaskStatus.WAITING)
    failed = state.count(TaskStatus.FAILED, TaskStatus.BLOCKED, TaskStatus.REJECTED)
    text.append(f" · {running} running · {waiting} waiting")
    if failed:
        text.append(f" · {failed} failed", style="bold red")
    eta = eta_seconds(state)
    if eta is not None and not state.settled:
        text.append(f" · ETA ~{_duration(eta)}", style="italic")
    text.append("\ntokens ", style="dim")
    text.append(f"{state.tokens_in:,} in / {state.tokens_out:,} out")
    text.append("\ncost ", style="dim")
    text.append(f"${state.cost_usd:.4f}", style="bold")
    if state.budget_usd is not None:
        text.append(f" of ${state.budget_usd:.2f}")
    else:
        text.append(" · no budget", style="dim")
    if state.cost_simulated:
        text.append(" (simulated)", style="italic yellow")
    if state.unpriced_calls:
        n = state.unpriced_calls
        text.append(f" · unknown cost for {n} call{'s' if n != 1 else ''}", style="yellow")
    if state.budget_tokens is not None:
        text.append(f"\ntoken budget {state.tokens:,} of {state.budget_tokens:,}", style="dim")
    return text


class Meters(Vertical):
    """Usage and progress of the run, drawn from RunState and the LLMUsage events."""

    DEFAULT_CSS = """
    Meters > #meters-text { height: auto; }
    Meters > ProgressBar { height: 1; }
    Meters > #models { height: auto; max-height: 6; }
    Meters > Sparkline { height: 2; margin-top: 1; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._buckets: dict[int, int] = {}
        self._last_second = 0
        self._state: RunState | None = None

    def compose(self) -> ComposeResult:
        yield Static("", id="meters-text")
        yield RunMetricsLine(id="metrics")
        yield ProgressBar(total=None, show_eta=False, id="budget")
        table: DataTable[Text] = DataTable(id="models", cursor_type="none", show_cursor=False)
        yield table
        yield Sparkline([0] * WINDOW_S, id="rate")

    def on_mount(self) -> None:
        self.border_title = "usage"
        table = self.query_one("#models", DataTable)
        for key, label in (
            ("model", "model"),
            ("calls", "calls"),
            ("tokens", "tokens"),
            ("cost", "cost"),
        ):
            table.add_column(label, key=key)
        self.query_one("#rate", Sparkline).tooltip = "tokens/s, last 60 s"

    def note(self, events: Sequence[ev.Event]) -> None:
        """Count tokens into one-second buckets of the run's clock (replays the same way)."""
        changed = False
        for e in events:
            if type(e) is ev.LLMUsage:
                second = int(e.ts)
                self._buckets[second] = self._buckets.get(second, 0) + e.tokens_in + e.tokens_out
                changed = True
            if e.ts > self._last_second:
                self._last_second = int(e.ts)
        if changed:
            oldest = self._last_second - WINDOW_S
            for second in [s for s in self._buckets if s <= oldest]:
                del self._buckets[second]
            self.query_one("#rate", Sparkline).data = [
                self._buckets.get(s, 0) for s in range(oldest + 1, self._last_second + 1)
            ]

    def reset(self) -> None:
        self._buckets.clear()
        self._state = None
        self.query_one("#rate", Sparkline).data = [0] * WINDOW_S

    def show(self, state: RunState) -> None:
        """Redraw from a new state (the caller skips this when the state object is unchanged)."""
        previous, self._state = self._state, state
        update_steady(self.query_one("#meters-text", Static), summary_text(state))
        bar = self.query_one("#budget", ProgressBar)
        bar.display = state.budget_usd is not None
        if state.budget_usd is not None:
            bar.update(total=state.budget_usd, progress=min(state.cost_usd, state.budget_usd))
        if previous is None or previous.models is not state.models:
            self._show_models(state)

    def _show_models(self, state: RunState) -> None:
        table = self.query_one("#models", DataTable)
        table.display = bool(state.models)
        table.clear()
        for name, usage in sorted(state.models.items()):
            cost = f"${usage.cost_usd:.4f}" + ("*" if usage.simulated else "")
            if usage.unpriced_calls:
                cost += f" (+{usage.unpriced_calls} unpriced)"
            table.add_row(
                Text(name),
                Text(str(usage.calls)),
                Text(f"{usage.tokens_in + usage.tokens_out:,}"),
                Text(cost),
                key=name,
            )
