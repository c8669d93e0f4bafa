"""Headless output: every event type prints as a line for a person, never as its raw JSON
(a run's settings once filled a whole screen of `--headless` output)."""

from __future__ import annotations

from maestro_tui.domain.events import EVENT_TYPES
from maestro_tui.engine.bus import EventBus
from maestro_tui.headless.printer import format_event
from tests.store.store_events import emit_every_event


def test_every_event_type_has_a_human_line() -> None:
    events = emit_every_event(EventBus("r1"))
    assert {e.type for e in events} == set(EVENT_TYPES)
    raw = [e.type for e in events if e.to_json()[:40] in format_event(e)]
    assert raw == []
    assert all(len(format_event(e)) < 400 for e in events if e.type == "RunConfigured")
