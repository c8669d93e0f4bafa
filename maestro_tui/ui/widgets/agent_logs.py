"""AgentLogs: the agents' output, one bounded tail per task, one Log widget showing one of them.

Every task's tail is a deque capped at `max_lines`; only the view on screen is a Log widget, so
sixteen agents cost sixteen deques, not sixteen widgets re-measuring their width on each
write. The full logs stay in the store.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence

from rich.cells import cell_len
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Log, Static

ALL = ""  # the combined view, every agent's lines with a [task] prefix


class TailLog(Log):
    """A Log that measures new lines' width at once instead of in a thread per write.

    Log starts a thread worker on every write to find the widest line; at 20 writes a
    second that is 20 threads a second, and until it reports, new lines draw zero columns
    wide. The dashboard writes at most a few hundred short lines per tick, so measuring
    them here is cheaper and the lines show in the same frame.
    """

    def on_resize(self) -> None:
        # Lines written before the first layout scrolled against a zero height; follow the end.
        if self.auto_scroll:
            self.scroll_end(animate=False, immediate=True, x_axis=False)

    def _update_size(self, updates: int, lines: list[str]) -> None:  # type: ignore[override]
        if lines:
            process = self._process_line
            self._update_maximum_width(updates, max(cell_len(process(line)) for line in lines))


class AgentLogs(Vertical):
    """Shows the combined log (0) or one agent's log (1–9 pick the Nth running agent)."""

    DEFAULT_CSS = """
    AgentLogs > #log-keys { height: 1; color: $foreground-muted; }
    AgentLogs > Log { height: 1fr; background: $surface; }
    """

    def __init__(self, *, max_lines: int = 2000, id: str | None = None) -> None:
        super().__init__(id=id)
        self.max_lines = max_lines
        self._tails: dict[str, deque[str]] = {}
        self._combined: deque[str] = deque(maxlen=max_lines)
        self._current = ALL
        self._agents: tuple[str, ...] = ()

    def compose(self) -> ComposeResult:
        yield Static("", id="log-keys")
        yield TailLog(max_lines=self.max_lines, auto_scroll=True, id="log")

    def on_mount(self) -> None:
        self.border_title = "logs · all agents"
        self._draw_keys()

    @property
    def current(self) -> str:
        """The task whose log is shown, or "" for the combined view."""
        return self._current

    @property
    def log_view(self) -> TailLog:
        return self.query_one("#log", TailLog)

    def tail(self, task_id: str = ALL) -> list[str]:
        """The lines kept for one task (or the combined view)."""
        return list(self._combined if task_id == ALL else self._tails.get(task_id, ()))

    def append(self, lines: Mapping[str, Sequence[str]]) -> None:
        """Add new lines per task; only lines for the view on screen touch the Log widget."""
        shown: list[str] = []
        for task_id, new in lines.items():
            tail = self._tails.get(task_id)
            if tail is None:
                tail = self._tails[task_id] = deque(maxlen=self.max_lines)
            tail.extend(new)
            prefixed = [f"[{task_id}] {line}" for line in new]
            self._combined.extend(prefixed)
            if self._current == ALL:
                shown.extend(prefixed)
            elif self._current == task_id:
                shown.extend(new)
        if shown:
            self.log_view.write_lines(shown[-self.max_lines :])

    def prepend(self, earlier: Sequence[tuple[str, str]]) -> None:
        """Put earlier (task, line)s, in the order they came, before every tail's lines (a
        resumed run's output from before it stopped, loaded after its new lines began)."""
        tails: dict[str, list[str]] = {}
        for task_id, line in earlier:
            tails.setdefault(task_id, []).append(line)
        for task_id, tail in self._tails.items():
            tails.setdefault(task_id, []).extend(tail)
        combined = [f"[{t}] {line}" for t, line in earlier]
        combined.extend(self._combined)
        self._tails = {t: deque(lines, maxlen=self.max_lines) for t, lines in tails.items()}
        self._combined = deque(combined, maxlen=self.max_lines)
        self._show(self._current)

    def reset(self, tails: Mapping[str, Sequence[str]]) -> None:
        """Replace every tail (replay seeking); the combined view is rebuilt task by task."""
        self._tails = {t: deque(lines, maxlen=self.max_lines) for t, lines in tails.items()}
        self._combined = deque(
            (f"[{t}] {line}" for t, lines in tails.items() for line in lines),
            maxlen=self.max_lines,
        )
        self._show(self._current)

    def set_running(self, running: Sequence[str]) -> None:
        """The running agents, in start order: keys 1–9 pick among them."""
        running = tuple(running)
        if running != self._agents:
            self._agents = running
            self._draw_keys()

    def show_task(self, task_id: str) -> None:
        """Show one task's tail ("" for all)."""
        if task_id != self._current:
            self._show(task_id)

    def show_nth(self, n: int) -> bool:
        """0: the combined view; N: the Nth running agent. False if there is no such agent."""
        if n == 0:
            self.show_task(ALL)
            return True
        if n <= len(self._agents):
            self.show_task(self._agents[n - 1])
            return True
        return False

    def _show(self, task_id: str) -> None:
        self._current = task_id
        log = self.log_view
        log.clear()
        log.write_lines(self.tail(task_id))
        self.border_title = "logs · all agents" if task_id == ALL else f"logs · {task_id}"
        self._draw_keys()

    def _draw_keys(self) -> None:
        text = Text(no_wrap=True, overflow="ellipsis")
        for n, task_id in enumerate(("all", *self._agents[:9])):
            current = (n == 0 and self._current == ALL) or task_id == self._current
            text.append(f" {n}", style="bold reverse" if current else "bold")
            text.append(f" {task_id} ", style="reverse" if current else "")
        if self._current not in (ALL, *self._agents):
            text.append(f" showing {self._current} ", style="reverse")
        # One line high (CSS), its width the pane's: its size never changes, no re-layout.
        self.query_one("#log-keys", Static).update(text, layout=False)
