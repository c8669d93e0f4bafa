"""RejectModal: confirms rejecting a held merge and asks for an optional reason."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label


class RejectModal(ModalScreen[str | None]):
    """Confirms a rejection and asks for an optional reason; dismisses None on cancel."""

    CSS_PATH = Path(__file__).with_suffix(".tcss")  # absolute, so subclasses elsewhere work
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, task_id: str) -> None:
        super().__init__()
        self.task_id = task_id

    def compose(self) -> ComposeResult:
        with Vertical(id="reject-dialog"):
            yield Label(f"Reject task [b]{self.task_id}[/b]? Its branch is kept for inspection.")
            yield Input(placeholder="reason (optional)", id="reject-reason")
            yield Label("[dim]enter: reject · escape: keep it waiting[/dim]")

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip())

    def action_cancel(self) -> None:
        self.dismiss(None)
