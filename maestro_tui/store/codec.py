"""Event <-> row conversion for the events table.

A row keeps the envelope (run id, seq, ts, type, task id) in columns and only the event's own
fields in `data`, as a JSON object. Serialising is the store's hot path (every line of agent
output passes through it), so field getters are cached per class and the C JSON encoder is
built once instead of once per call as `json.dumps` does.
"""

from __future__ import annotations

import dataclasses
import json
import operator
from collections.abc import Callable
from typing import Any

from maestro_tui.domain.events import EVENT_TYPES, Event, event_from_dict

ENVELOPE = frozenset({"run_id", "seq", "ts"})

_Getter = Callable[[Event], tuple[Any, ...]]
_payload_fields: dict[type[Event], tuple[tuple[str, ...], _Getter]] = {}
_slow_encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), check_circular=False)


def _make_fast_encoder() -> Callable[[Any], str]:
    """The C encoder that JSONEncoder.encode rebuilds on every call, built once.

    `c_make_encoder` is a CPython internal; if it is missing or its signature changes the
    check below fails and the documented (slower) JSONEncoder.encode is used instead.
    """
    try:
        from json.encoder import c_make_encoder, encode_basestring  # type: ignore[attr-defined]

        enc = _slow_encoder
        chunks = c_make_encoder(
            None, enc.default, encode_basestring, None, ":", ",", False, False, True
        )
        sample = {"a": [1, 2.5, None, True], "b": 'é\n"x"', "c": {"d": (1,)}}
        if "".join(chunks(sample, 0)) != _slow_encoder.encode(sample):
            raise ValueError("c_make_encoder output differs")
    except Exception:  # noqa: BLE001 - any failure here just means: use the portable path
        return _slow_encoder.encode
    return lambda obj: "".join(chunks(obj, 0))


encode_json: Callable[[Any], str] = _make_fast_encoder()


def _fields(cls: type[Event]) -> tuple[tuple[str, ...], _Getter]:
    cached = _payload_fields.get(cls)
    if cached is None:
        names = tuple(f.name for f in dataclasses.fields(cls) if f.name not in ENVELOPE)
        getter: _Getter
        if not names:
            getter = lambda _e: ()  # noqa: E731
        elif len(names) == 1:
            one = operator.attrgetter(names[0])
            getter = lambda e: (one(e),)  # noqa: E731
        else:
            getter = operator.attrgetter(*names)
        cached = _payload_fields[cls] = (names, getter)
    return cached


def encode_payload(event: Event) -> str:
    """The event's own fields (not run id, seq or ts) as a compact JSON object."""
    names, getter = _fields(type(event))
    return encode_json(dict(zip(names, getter(event), strict=True)))


def decode_event(run_id: str, seq: int, ts: float, type_name: str, data: str) -> Event:
    """Rebuild an event from its row; a row the code cannot read is a ValueError naming it."""
    try:
        fields = json.loads(data)
        fields.update(type=type_name, run_id=run_id, seq=seq, ts=ts)
        return event_from_dict(fields)
    except (ValueError, TypeError) as exc:
        known = "" if type_name in EVENT_TYPES else " (unknown to this maestro-tui version)"
        raise ValueError(
            f"event {run_id}#{seq} ({type_name}{known}) cannot be read: {exc}"
        ) from exc
