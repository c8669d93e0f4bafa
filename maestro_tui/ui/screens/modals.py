"""Modal dialogs: confirm (bool), number (float | None) and text (str | None)."""

from __future__ import annotations

from pathlib import Path
from typing import Generic, TypeVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label

MODALS_CSS = Path(__file__).with_name("modals.tcss")  # absolute, so subclasses elsewhere work


class ConfirmModal(ModalScreen[bool]):
    """A yes/no question; y / n / Escape answer it from the keyboard."""

    CSS_PATH = MODALS_CSS
    BINDINGS = [
        Binding("y", "answer(True)", "yes"),
        Binding("n,escape", "answer(False)", "no"),
    ]

    def __init__(self, question: str, *, yes: str = "Yes", no: str = "No") -> None:
        super().__init__()
        self.question, self.yes, self.no = question, yes, no

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(self.question, id="question")
            with Horizontal(id="buttons"):
                yield Button(f"{self.no} [n]", id="no")
                yield Button(f"{self.yes} [y]", id="yes", variant="warning")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")


class LeaveModal(ModalScreen[str | None]):
    """Leaving a run that goes on in the background: d detaches (the default, on Enter),
    s stops it where it is (resumable), Escape stays."""

    CSS_PATH = MODALS_CSS
    BINDINGS = [
        Binding("d", "answer('detach')", "leave it going"),
        Binding("s", "answer('stop')", "stop it"),
        Binding("escape", "answer(None)", "stay"),
    ]

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(self.question, id="question")
            with Horizontal(id="buttons"):
                yield Button("Stay (esc)", id="stay")
                yield Button("Stop it (s)", id="stop", variant="warning")
                yield Button("Leave it going (d)", id="detach", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#detach", Button).focus()

    def action_answer(self, choice: str | None) -> None:
        self.dismiss(choice)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(None if event.button.id == "stay" else event.button.id)


T = TypeVar("T")


class _InputModal(ModalScreen[T | None], Generic[T]):
    """A prompt and one Input: Enter submits (if valid), Escape backs out with None."""

    CSS_PATH = MODALS_CSS
    BINDINGS = [Binding("escape", "cancel", "cancel")]
    input_type = "text"

    def __init__(self, prompt: str, *, value: object = "") -> None:
        super().__init__()
        self.prompt = prompt
        self.value = "" if value is None else str(value)

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(self.prompt, id="question")
            yield Input(self.value, type=self.input_type, id="answer")  # type: ignore[arg-type]
            yield Label("", id="error")
            with Horizontal(id="buttons"):
                yield Button("Cancel [esc]", id="cancel")
                yield Button("OK [enter]", id="ok", variant="primary")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def parse(self, text: str) -> T:
        """The answer from the input's text; raise ValueError with a message if it is not one."""
        raise NotImplementedError

    def _submit(self) -> None:
        try:
            result = self.parse(self.query_one(Input).value)
        except ValueError as exc:
            self.query_one("#error", Label).update(str(exc))
            return
        self.dismiss(result)

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self._submit()

    @on(Button.Pressed, "#ok")
    def _ok(self) -> None:
        self._submit()

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


class NumberModal(_InputModal[float]):
    """Ask for a number, at least `minimum` (e.g. a budget above what is already spent)."""

    input_type = "number"

    def __init__(
        self, prompt: str, *, value: float | None = None, minimum: float | None = None
    ) -> None:
        super().__init__(prompt, value=value)
        self.minimum = minimum

    def parse(self, text: str) -> float:
        try:
            number = float(text)
        except ValueError:
            raise ValueError(f"not a number: {text!r}") from None
        if self.minimum is not None and number < self.minimum:
            raise ValueError(f"must be at least {self.minimum:g}")
        return number


class TextModal(_InputModal[str]):
    """Ask for a line of text (e.g. why a merge is rejected); empty is allowed if `optional`."""

    def __init__(self, prompt: str, *, value: str = "", optional: bool = True) -> None:
        super().__init__(prompt, value=value)
        self.optional = optional

    def parse(self, text: str) -> str:
        if not text.strip() and not self.optional:
            raise ValueError("please write something")
        return text.strip()
