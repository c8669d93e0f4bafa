"""Events: everything that happens in a run, as frozen, JSON-serialisable records.

Each event carries the run id, a per-run sequence number and a monotonic timestamp (seconds
since the run's clock started). Only the EventBus stamps those three; code that reports
something calls `bus.emit(TaskStarted, task_id=..., ...)`.
"""

from __future__ import annotations

import dataclasses
import json
import typing
from dataclasses import dataclass
from typing import Any

from maestro_tui.domain.frozen import slot_init

EVENT_TYPES: dict[str, type[Event]] = {}


@dataclass(frozen=True, kw_only=True, slots=True)
class Event:
    """Base of all events."""

    run_id: str
    seq: int
    ts: float

    def __init_subclass__(cls) -> None:
        # No super() here: zero-argument super breaks in slotted dataclasses. With slots=True
        # the decorator makes a new class; registering the last one seen wins.
        EVENT_TYPES[cls.__name__] = cls
        # Events are built on the hot path of every run, one per line of agent output.
        if "__slots__" in cls.__dict__ and "__dataclass_fields__" in cls.__dict__:
            cls.__init__ = slot_init(cls)  # type: ignore[method-assign]

    @property
    def type(self) -> str:
        return type(self).__name__

    @property
    def task_id(self) -> str | None:
        """The task this event is about, if any (every task event has a `task` field)."""
        return getattr(self, "task", None)

    def to_dict(self) -> dict[str, Any]:
        data = {name: getattr(self, name) for name in _names(type(self))}
        data["type"] = type(self).__name__
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, separators=(",", ":"))


def _names(cls: type[Event]) -> tuple[str, ...]:
    names = cls.__dict__.get("_field_names_cache")
    if names is None:
        names = tuple(f.name for f in dataclasses.fields(cls))
        hints = typing.get_type_hints(cls)
        tuples = frozenset(n for n in names if typing.get_origin(hints.get(n)) is tuple)
        cls._field_names_cache = names  # type: ignore[attr-defined]
        cls._tuple_fields_cache = tuples  # type: ignore[attr-defined]
    return names


def event_from_dict(data: dict[str, Any]) -> Event:
    """Inverse of Event.to_dict; unknown types or fields are a ValueError naming them."""
    data = dict(data)
    name = data.pop("type", None)
    cls = EVENT_TYPES.get(name or "")
    if cls is None:
        raise ValueError(f"unknown event type {name!r}")
    names = _names(cls)
    tuples: frozenset[str] = cls._tuple_fields_cache  # type: ignore[attr-defined]
    for key in tuples:
        if isinstance(data.get(key), list):
            data[key] = _tuples(data[key])
    extra = set(data) - set(names)
    if extra:
        raise ValueError(f"{name}: unknown field(s) {sorted(extra)}")
    return cls(**data)


def _tuples(value: Any) -> Any:
    """JSON arrays back to (nested) tuples."""
    return tuple(_tuples(v) for v in value) if isinstance(value, list) else value


def event_from_json(text: str) -> Event:
    return event_from_dict(json.loads(text))
