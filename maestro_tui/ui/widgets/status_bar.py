"""StatusBar: one line naming the run, its status, dispatch and concurrency."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from maestro_tui.domain.attention import needs_you
from maestro_tui.domain.state import RunState, RunStatus

_STATUS_STYLE = {
    RunStatus.PLANNING: "bold cyan",
    RunStatus.RUNNING: "bold yellow",
    RunStatus.SUCCEEDED: "bold green",
    RunStatus.WAITING: "bold magenta",
    RunStatus.FAILED: "bold red",
    RunStatus.UNCHANGED: "bold red",
    RunStatus.CANCELLED: "bold",
    RunStatus.INTERRUPTED: "bold red",
}


def status_line(state: RunState, where: str = "") -> Text:
    """The bar's text; pure so the bar can skip updates that would draw the same thing.
    `where`: said beside the status, e.g. that the run goes on without this screen."""
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(" maestro ", style="reverse bold")
    text.append(f" run {state.run_id or '-'} ")
    text.append(f" {state.status.value} ", style=_STATUS_STYLE.get(state.status, ""))
    if where:
        text.append(f" {where} ", style="bold cyan")
    if state.paused:
        text.append(" ‖ dispatch paused ", style="reverse bold yellow")
    text.append(f" agents ≤{state.max_agents} ")
    text.append(f" policy {state.merge_policy} ", style="dim")
    waiting_on_you = len(needs_you(state))
    if waiting_on_you:
        text.append(f" ⚑ {waiting_on_you} need{'s' if waiting_on_you == 1 else ''} you · n ",
                    style="reverse bold magenta")  # fmt: skip
    if state.base_red:
        text.append(" ✘ the integration branch fails its own tests ", style="reverse bold red")
    elif state.gate_off:
        text.append(" merges untested ", style="bold yellow")
    if state.budget_exceeded:
        text.append(" budget spent ", style="reverse bold red")
    elif state.budget_warned:
        text.append(" budget low ", style="bold yellow")
    if state.goal:
        text.append(f" {state.goal}", style="italic")
    return text


class StatusBar(Static):
    """Top line of the dashboard."""

    DEFAULT_CSS = """
    StatusBar { height: 1; background: $panel; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id)
        self._plain = ""
        self.where = ""  # e.g. "in the background": the run goes on without this screen

    def note(self, message: str) -> None:
        """A message in place of the run's status (while it opens), until the next `show`."""
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(" maestro ", style="reverse bold")
        text.append(f" {message}", style="italic")
        self._plain = ""
        self.update(text)

    def show(self, state: RunState) -> None:
        text = status_line(state, self.where)
        if text.plain != self._plain or not self._plain:
            self._plain = text.plain
            self.update(text, layout=False)  # one line, as wide as the screen: no re-layout
