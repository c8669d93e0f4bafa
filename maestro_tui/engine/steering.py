"""Steering: messages from the human to agents that are working, through their mailboxes.

A worker that can take a message while it works (`agents.base.Steerable`) gets a Mailbox
with its job; `steer` puts a message in the mailbox of each running attempt of the task (an
ensemble has one per candidate). Sending and delivery are both events, so the log and replay
show them.
"""

from __future__ import annotations

from maestro_tui.agents.base import Mailbox, Steerable, Worker
from maestro_tui.domain import events as ev
from maestro_tui.engine.bus import EventBus


class SteerRefused(ValueError):
    """The message cannot reach the task's agent; the text says why."""


class Steering:
    def __init__(self, bus: EventBus) -> None:
        self._bus = bus
        self._open: dict[str, list[tuple[str, Mailbox]]] = {}  # task -> (delivery, mailbox)

    def open(self, task_id: str, attempt: int, worker: Worker) -> Mailbox | None:
        """A mailbox for an attempt starting now, or None when its worker cannot take one."""
        if not (isinstance(worker, Steerable) and worker.steering):
            return None

        def delivered(text: str) -> None:
            self._bus.emit(ev.SteerDelivered, task=task_id, attempt=attempt, text=text)

        mailbox = Mailbox(delivered)
        self._open.setdefault(task_id, []).append((worker.steering, mailbox))
        return mailbox

    def close(self, task_id: str, mailbox: Mailbox | None) -> None:
        """The attempt ended; messages it never took are dropped with it."""
        boxes = self._open.get(task_id, [])
        self._open[task_id] = [b for b in boxes if b[1] is not mailbox]

    def delivery(self, task_id: str) -> str | None:
        """How a message would reach the task's agent now; None when it cannot."""
        boxes = self._open.get(task_id)
        return boxes[0][0] if boxes else None

    def steer(self, task_id: str, text: str, source: str) -> str:
        """Queue a message for a running task's agent; returns how it will reach it."""
        text = text.strip()
        if not text:
            raise SteerRefused("the message is empty")
        boxes = self._open.get(task_id)
        if not boxes:
            raise SteerRefused(
                f"task '{task_id}' has no running agent that can take a message"
                " (the LLM worker can, and CLIs that resume their session)"
            )
        delivery = boxes[0][0]
        self._bus.emit(ev.SteerSent, task=task_id, text=text, source=source, delivery=delivery)
        for _delivery, mailbox in boxes:
            mailbox.put(text)
        return delivery
