"""EventBus: stamps events with run id, sequence and clock, and fans them out synchronously."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from maestro_tui.domain.events import Event

E = TypeVar("E", bound=Event)
Subscriber = Callable[[Event], None]


class EventBus:
    """The one place events are created, so sequence numbers have no gaps and no repeats.

    Subscribers are called in order, synchronously, and must not block: the store buffers,
    the UI bridge buffers, the printer writes a line.
    """

    def __init__(
        self,
        run_id: str,
        *,
        next_seq: int = 1,
        start_ts: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.run_id = run_id
        self._seq = next_seq - 1
        self._clock = clock
        # A resumed run continues its timeline where the last event left it.
        self._offset = start_ts - clock()
        self._subscribers: list[Subscriber] = []
        self._secrets: tuple[str, ...] = ()
        # Events emitted by a subscriber while another event is being delivered wait here,
        # so every subscriber sees every event in sequence order.
        self._queue: deque[Event] = deque()
        self._delivering = False

    @property
    def last_seq(self) -> int:
        return self._seq

    def now(self) -> float:
        return self._clock() + self._offset

    def redact(self, secrets: Iterable[str]) -> None:
        """Replace these values (API keys) in every text field of every later event."""
        self._secrets = tuple(s for s in secrets if len(s) >= 8)

    def _scrub(self, fields: dict[str, Any]) -> dict[str, Any]:
        for key, value in fields.items():
            if isinstance(value, str):
                for secret in self._secrets:
                    if secret in value:
                        value = value.replace(secret, "[redacted]")
                fields[key] = value
        return fields

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        self._subscribers.append(subscriber)
        return lambda: self._subscribers.remove(subscriber)

    def emit(self, cls: type[E], **fields: Any) -> E:
        if self._secrets:
            fields = self._scrub(fields)
        self._seq = seq = self._seq + 1
        event = cls(run_id=self.run_id, seq=seq, ts=self._clock() + self._offset, **fields)
        if self._delivering:
            self._queue.append(event)
            return event
        self._delivering = True
        try:
            for subscriber in self._subscribers:
                subscriber(event)
            queue = self._queue
            while queue:
                queued = queue.popleft()
                for subscriber in self._subscribers:
                    subscriber(queued)
        finally:
            self._delivering = False
        return event
