"""Steering: a message reaches each running attempt of a task that can take one, as events."""

from __future__ import annotations

import pytest

from maestro_tui.agents.base import WorkerJob, WorkerResult
from maestro_tui.domain import events as ev
from maestro_tui.engine.bus import EventBus
from maestro_tui.engine.steering import Steering, SteerRefused


class Listens:
    name = "listens"
    steering = "at its next turn"

    async def run(self, job: WorkerJob, report: object) -> WorkerResult:
        raise NotImplementedError


class Deaf:
    name = "deaf"

    async def run(self, job: WorkerJob, report: object) -> WorkerResult:
        raise NotImplementedError


def test_messages_reach_every_candidate_and_delivery_is_an_event() -> None:
    bus = EventBus("r1")
    seen: list[ev.Event] = []
    bus.subscribe(seen.append)
    steering = Steering(bus)
    one = steering.open("t", 1, Listens())
    two = steering.open("t", 1, Listens())
    assert one is not None and two is not None
    assert steering.open("u", 1, Deaf()) is None  # a plain command cannot take messages
    assert steering.steer("t", "  keep the API stable ", "tui") == "at its next turn"
    assert one.take() == ["keep the API stable"] and two.take() == ["keep the API stable"]
    sent = [e for e in seen if isinstance(e, ev.SteerSent)]
    assert [(e.task, e.text, e.source) for e in sent] == [("t", "keep the API stable", "tui")]
    assert [e.attempt for e in seen if isinstance(e, ev.SteerDelivered)] == [1, 1]
    steering.close("t", one)
    steering.close("t", two)
    with pytest.raises(SteerRefused, match="no running agent that can take a message"):
        steering.steer("t", "too late", "tui")
    with pytest.raises(SteerRefused, match="no running agent"):
        steering.steer("u", "hello", "cli")
    with pytest.raises(SteerRefused, match="empty"):
        steering.steer("t", "   ", "cli")
