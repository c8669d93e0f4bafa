"""Dashboard: the run at a glance, fed from RunState; shared by the live screen and replay."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from textual import events, on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widget import Widget
from textual.widgets import TabbedContent, TabPane

from maestro_tui.domain import events as ev
from maestro_tui.domain.state import RunState, TaskStatus
from maestro_tui.ui.widgets.agent_logs import AgentLogs
from maestro_tui.ui.widgets.file_activity import FileActivity
from maestro_tui.ui.widgets.findings import Findings
from maestro_tui.ui.widgets.merge_table import MergeQueueTable
from maestro_tui.ui.widgets.meters import Meters
from maestro_tui.ui.widgets.run_metrics import RunMetricsLine
from maestro_tui.ui.widgets.status_bar import StatusBar
from maestro_tui.ui.widgets.task_detail import TaskDetail
from maestro_tui.ui.widgets.task_graph import TaskGraph

# Below this size (of the dashboard itself) the panes stack and the extras hide.
CONDENSED_WIDTH = 110
CONDENSED_HEIGHT = 30


class Dashboard(Widget):
    """Task graph, task detail, agent logs, findings and file activity, meters with the
    coordination metrics, and the merge queue, fed from RunState and the events.

    `feed` and `reset` are the contract with the live bridge and with replay.
    """

    DEFAULT_CSS = Path(__file__).with_suffix(".tcss").read_text(encoding="utf-8")

    def __init__(self, *, id: str | None = None, max_log_lines: int = 2000) -> None:
        super().__init__(id=id)
        self._state: RunState | None = None
        self._selected: str | None = None
        self._max_log_lines = max_log_lines
        self._chosen_by: dict[str, str] = {}  # task -> method of its last CandidateSelected

    def compose(self) -> ComposeResult:
        yield StatusBar(id="status")
        with Horizontal(id="dash-top"):
            with Vertical(id="dash-left"):
                graph = TaskGraph(id="graph")
                graph.border_title = "tasks"
                yield graph
                detail = TaskDetail(id="detail")
                detail.border_title = "task"
                yield detail
            with Vertical(id="dash-right"):
                yield AgentLogs(id="logs", max_lines=self._max_log_lines)
                with TabbedContent(id="activity"):
                    with TabPane("findings", id="findings-tab"):
                        yield Findings(id="findings")
                    with TabPane("files", id="files-tab"):
                        yield FileActivity(id="files")
        with Horizontal(id="dash-bottom"):
            yield Meters(id="meters")
            yield MergeQueueTable(id="merges")

    def on_resize(self, event: events.Resize) -> None:
        width, height = event.size
        self.set_class(width < CONDENSED_WIDTH or height < CONDENSED_HEIGHT, "-condensed")

    @property
    def graph(self) -> TaskGraph:
        return self.query_one(TaskGraph)

    @property
    def logs(self) -> AgentLogs:
        return self.query_one(AgentLogs)

    @property
    def merges(self) -> MergeQueueTable:
        return self.query_one(MergeQueueTable)

    @property
    def state(self) -> RunState | None:
        return self._state

    def feed(self, events: Sequence[ev.Event], state: RunState) -> None:
        """New events and the state after them: append log lines, redraw what changed."""
        lines: dict[str, list[str]] = {}
        for e in events:
            if type(e) is ev.AgentOutput:
                lines.setdefault(e.task, []).append(e.text)
            elif type(e) is ev.CandidateSelected:
                self._chosen_by[e.task] = e.method
            elif type(e) is ev.SteerSent:
                lines.setdefault(e.task, []).append(f"» you: {e.text} (it takes it {e.delivery})")
            elif type(e) is ev.SteerDelivered:
                lines.setdefault(e.task, []).append("» the agent has your message")
            elif type(e) is ev.AttemptPlaced:  # the Ray executor: where this step runs
                where = f"» {e.step} on ray node {e.node[:12]}, pid {e.pid}"
                lines.setdefault(e.task, []).append(where + (" (fresh clone)" if e.built else ""))
            elif type(e) is ev.NotifyFailed:
                self.notify(e.error, title=f"notifications: {e.channel} failed", severity="warning")
        if lines:
            self.logs.append(lines)
        self.query_one(Meters).note(events)
        self.query_one(FileActivity).feed(events)
        self.query_one(RunMetricsLine).note(events, state)
        if state is not self._state:
            self._show(state)

    def reset(self, state: RunState, log_tails: Mapping[str, Sequence[str]]) -> None:
        """Replace everything shown (replay seeking, or a fresh start)."""
        self.logs.reset(log_tails)
        self.query_one(Meters).reset()
        self.query_one(FileActivity).reset()
        self.query_one(RunMetricsLine).reset(state)
        self._chosen_by.clear()
        self._state = None
        self._show(state)

    def show_opening(self) -> None:
        """Before there is a run to show: say it is opening, the task graph loading."""
        self.query_one(StatusBar).note("opening the run: repository, database, models…")
        self.graph.loading = True

    def _show(self, state: RunState) -> None:
        self._state = state
        self.graph.loading = False
        self.graph.show(state)
        self.query_one(StatusBar).show(state)
        self.query_one(Meters).show(state)
        self.query_one(Findings).show(state)
        merges = self.merges
        merges.show(state)
        merges.set_class(merges.waiting_count > 0, "-has-waiting")
        if self._selected is not None:
            self._show_detail(state)
        running = sorted(
            (t for t in state.tasks.values() if t.status is TaskStatus.RUNNING),
            key=lambda t: (t.started_ts or 0.0, t.id),
        )
        self.logs.set_running([t.id for t in running])

    @on(TaskGraph.TaskHighlighted)
    def _task_highlighted(self, event: TaskGraph.TaskHighlighted) -> None:
        self._selected = event.task_id
        if self._state is not None:
            self._show_detail(self._state)

    def _show_detail(self, state: RunState) -> None:
        task_id = self._selected or ""
        self.query_one(TaskDetail).show(state.tasks.get(task_id), self._chosen_by.get(task_id, ""))

    @on(TaskGraph.TaskChosen)
    def _task_chosen(self, event: TaskGraph.TaskChosen) -> None:
        self.logs.show_task(event.task_id)
