"""Event <-> row conversion for the events table.

A row keeps the envelope (run id, seq, ts, wall clock, type, task id) in columns and only the
event's own fields in `data`, as a JSON object. Serialising is the store's hot path: every
line of agent output passes through it, and `json.dumps` spends most of its time rebuilding
its encoder. So each event class gets a row builder, generated once from its fields (as
dataclasses generate `__init__`): fields typed `str` are escaped by the C string encoder, `int`
fields written with `int.__repr__`, both spliced into a fixed template; anything else goes
through the C JSON encoder, built once.
A value the fast path cannot take falls back to the plain encoder, which also gives the
error message.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from collections.abc import Callable
from typing import Any

from maestro_tui.domain.events import EVENT_TYPES, Event, event_from_dict

ENVELOPE = ("run_id", "seq", "ts")

Row = tuple[Any, ...]  # (run_id, seq, ts, wall, type, task_id, data)
RowBuilder = Callable[[Event, float], Row]

_plain = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), check_circular=False)


def _make_encode_json() -> Callable[[Any], str]:
    """The C encoder that JSONEncoder.encode rebuilds on every call, built once.

    `c_make_encoder` is a CPython internal: if it is missing or behaves differently, the check
    below fails and the documented, slower `JSONEncoder.encode` is used instead.
    """
    try:
        from json.encoder import c_make_encoder  # type: ignore[attr-defined]
        from json.encoder import encode_basestring as escape

        chunks = c_make_encoder(None, _plain.default, escape, None, ":", ",", False, False, True)
        sample = {"a": [1, 2.5, None, True], "b": 'é\n"x"', "c": {"d": (1,)}}
        if "".join(chunks(sample, 0)) != _plain.encode(sample):
            raise ValueError("c_make_encoder output differs")
    except Exception:  # noqa: BLE001 - any failure here only means: take the portable path
        return _plain.encode
    return lambda obj: "".join(chunks(obj, 0))


encode_json: Callable[[Any], str] = _make_encode_json()
_escape: Callable[[str], str] = json.encoder.encode_basestring
ROW_BUILDERS: dict[
    type[Event], RowBuilder
] = {}  # filled by row_builder(); read directly on the hot path


def _payload_names(cls: type[Event]) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(cls) if f.name not in ENVELOPE)


def encode_payload(event: Event) -> str:
    """The event's own fields (not run id, seq or ts) as a compact JSON object."""
    payload: str = row_builder(type(event))(event, 0.0)[6]
    return payload


def _slow_payload(event: Event) -> str:
    names = _payload_names(type(event))
    return encode_json({name: getattr(event, name) for name in names})


def row_builder(cls: type[Event]) -> RowBuilder:
    """The function that turns an event of `cls` and a wall-clock time into its events row."""
    builder = ROW_BUILDERS.get(cls)
    if builder is None:
        builder = ROW_BUILDERS[cls] = _generate(cls)
    return builder


def _value_source(name: str, hint: Any) -> str:
    """Source of an expression giving field `name`'s JSON text, fast for its declared type.

    str: the C string escaper; int: int.__repr__ (a bool, being an int, would become 1 or 0);
    float: float.__repr__ when finite, as json does (nan and inf are not JSON: the encoder
    writes them as json.dumps does); bool: a constant; `X | None`: null, else as X. A value of
    another type makes these raise TypeError, and the builder takes the slow, exact path.
    Anything else goes through the C JSON encoder.
    """
    value = f"e.{name}"
    optional = False
    args = typing.get_args(hint)
    if typing.get_origin(hint) in (typing.Union, types.UnionType) and type(None) in args:
        rest = [a for a in args if a is not type(None)]
        if len(rest) == 1:
            hint, optional = rest[0], True
    if hint is str:
        out = f"_escape({value})"
    elif hint is int:
        out = f"_int({value})"
    elif hint is float:
        out = f"(_float({value}) if {value} - {value} == 0.0 else _json({value}))"
    elif hint is bool:
        out = f"('true' if {value} is True else 'false' if {value} is False else _json({value}))"
    else:
        return f"_json({value})"
    return f"('null' if {value} is None else {out})" if optional else out


def _generate(cls: type[Event]) -> RowBuilder:
    names = _payload_names(cls)
    hints = typing.get_type_hints(cls)
    # Field names are Python identifiers: no quoting or '%' to worry about in the template.
    template = "{" + ",".join(f'"{name}":%s' for name in names) + "}"
    values = "".join(f"{_value_source(name, hints.get(name))}, " for name in names)
    task = "e.task" if "task" in names else "None"
    source = (
        "def build(e, wall):\n"
        "    try:\n"
        f"        data = {template!r} % ({values})\n"
        "    except TypeError:\n"
        "        data = _slow(e)\n"
        f"    return (e.run_id, e.seq, e.ts, wall, {cls.__name__!r}, {task}, data)\n"
    )
    scope: dict[str, Any] = {
        "_escape": _escape,
        "_int": int.__repr__,
        "_float": float.__repr__,
        "_json": encode_json,
        "_slow": _slow_payload,
    }
    exec(source, scope)  # noqa: S102 - source built above from dataclass field names only
    build: RowBuilder = scope["build"]
    return build


def decode_event(run_id: str, seq: int, ts: float, type_name: str, data: str) -> Event:
    """Rebuild an event from its row; a row this version cannot read is a ValueError naming it."""
    try:
        fields = json.loads(data)
        fields.update(type=type_name, run_id=run_id, seq=seq, ts=ts)
        return event_from_dict(fields)
    except (ValueError, TypeError) as exc:
        known = "" if type_name in EVENT_TYPES else " (unknown to this maestro-tui version)"
        raise ValueError(
            f"event {run_id}#{seq} ({type_name}{known}) cannot be read: {exc}"
        ) from exc
