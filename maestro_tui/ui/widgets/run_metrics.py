"""RunMetricsLine: the coordination metrics against their targets, from a bounded event summary.

compute_metrics reads only a few event types; the widget keeps those (never AgentOutput or
file changes) and recomputes at most once a second, however fast events arrive.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from rich.text import Text
from textual.timer import Timer
from textual.widgets import Static

from maestro_tui.domain import events as ev
from maestro_tui.domain.metrics import Metric, RunMetrics, compute_metrics
from maestro_tui.domain.state import RunState

# The event types domain.metrics._Tally reads; everything else is dropped on arrival.
METRIC_EVENTS: tuple[type[ev.Event], ...] = (
    ev.LLMUsage, ev.TaskStarted, ev.TaskFinished, ev.TaskFailed, ev.TaskCancelled,
    ev.TestsRan, ev.CandidateFinished, ev.CandidateSelected, ev.Merged, ev.MergeRejected,
    ev.MergeConflict,
)  # fmt: skip
MIN_INTERVAL_S = 1.0
SHORT = {
    "coordination overhead": "overhead",
    "efficiency Ec": "Ec",
    "test-signal coverage": "test signal",
    "merge success": "merged",
    "cost per merged task": "$/merged",
}


def _value(m: Metric) -> str:
    if m.value is None:
        return "n/a"
    if m.unit == "usd":
        return f"${m.value:.4f}"
    if m.unit == "number":
        return f"{m.value:.2f}"
    return f"{m.value * (1 if m.unit == 'percent' else 100):.0f}%"


def render_metrics(metrics: RunMetrics | None, partial: bool = False) -> Text:
    """Two lines: each metric's value, its target and ok/miss, coloured (pure)."""
    text = Text(no_wrap=True, overflow="ellipsis")
    if metrics is None:
        return text.append("metrics n/a", style="dim")
    for n, metric in enumerate(metrics.metrics()):
        text.append("\n" if n == 3 else ("" if n == 0 else " · "))
        text.append(f"{SHORT.get(metric.name, metric.name)} ", style="dim")
        text.append(_value(metric), style="bold")
        if metric.target:
            text.append(f" ({metric.target.replace(' ', '')})", style="dim")
        verdict = {True: ("ok", "green"), False: ("miss", "bold red"), None: ("", "")}
        word, style = verdict[metric.meets_target]
        if word:
            text.append(f" {word}", style=style)
    if partial:
        text.append(" · partial", style="dim italic")
    return text


class RunMetricsLine(Static):
    """Coordination overhead, Ec, test-signal coverage, merge success and cost per merge."""

    DEFAULT_CSS = """
    RunMetricsLine { height: 2; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(render_metrics(None), id=id)
        self._events: list[ev.Event] = []
        self._state: RunState | None = None
        self._partial = False
        self._last = float("-inf")
        self._dirty = False
        self._timer: Timer | None = None
        self.metrics: RunMetrics | None = None
        self.min_interval_s = MIN_INTERVAL_S

    @property
    def kept(self) -> int:
        """How many events are kept for the metrics (bounded by what they read)."""
        return len(self._events)

    def note(self, events: Sequence[ev.Event], state: RunState) -> None:
        """Keep the events the metrics read; recompute now or within the second."""
        kept = [e for e in events if isinstance(e, METRIC_EVENTS)]
        self._events.extend(kept)
        changed, self._state = state is not self._state, state
        if kept or changed:
            self._dirty = True
            self._throttled()

    def reset(self, state: RunState) -> None:
        """Start again from a state whose earlier events are not known (a seek, a reopen)."""
        self._events.clear()
        self._state = state
        self._partial = any(t.attempts for t in state.tasks.values())
        self.tooltip = (
            "partial: counted from the events seen since this view opened or seeked"
            if self._partial
            else None
        )
        self._last = float("-inf")
        self._dirty = True
        self.recompute()

    def _throttled(self) -> None:
        wait = self._last + self.min_interval_s - time.monotonic()
        if wait <= 0:
            self.recompute()
        elif self._timer is None:
            self._timer = self.set_timer(wait, self._timer_fired)

    def _timer_fired(self) -> None:
        self._timer = None
        self.recompute()

    def recompute(self) -> None:
        """Compute the metrics from the kept events now (tests call this instead of waiting)."""
        if not self._dirty or self._state is None:
            return
        self._dirty = False
        if self._events:
            self._last = time.monotonic()
        self.metrics = compute_metrics(self._events, self._state)
        self.update(render_metrics(self.metrics, self._partial))
