"""Findings: what agents shared with later tasks (FindingPublished), newest first, bounded."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from maestro_tui.domain.state import RunState

MAX_FINDINGS = 50


def render_findings(findings: tuple[tuple[str, str], ...], limit: int = MAX_FINDINGS) -> Text:
    """ "[task] text" lines, newest first, at most `limit` of them (pure)."""
    if not findings:
        return Text("no findings shared yet", style="italic")
    text = Text(overflow="fold")
    for n, (task, finding) in enumerate(reversed(findings[-limit:])):
        if n:
            text.append("\n")
        text.append(f"[{task}] ", style="bold")
        text.append(finding)
    return text


class Findings(Static):
    """The run's shared findings; redrawn only when RunState.findings changes."""

    DEFAULT_CSS = """
    Findings { padding: 0 1; }
    """

    def __init__(self, *, limit: int = MAX_FINDINGS, id: str | None = None) -> None:
        super().__init__(render_findings(()), id=id)
        self.limit = limit
        self._shown: tuple[tuple[str, str], ...] | None = None

    def show(self, state: RunState) -> None:
        if state.findings is not self._shown:
            self._shown = state.findings
            self.update(render_findings(state.findings, self.limit))
