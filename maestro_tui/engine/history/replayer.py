"""Replay of a stored run: step, play on a virtual clock, and seek anywhere, without Textual.

`Replayer.load` reads the run once and keeps only what seeking needs: the (seq, ts) of every
event in two compact arrays, the RunState every `checkpoint_every` events (RunState is
immutable, so a checkpoint is a reference) and, at each checkpoint, the last lines of output
of each task. Events themselves are re-read from the store by seq when they are played, so a
run of millions of events costs megabytes, not gigabytes. A seek starts from the nearest
checkpoint at or before the target and reduces at most `checkpoint_every` events forward.

Times given to and returned by the replayer are *elapsed* seconds: run clock minus the ts of
the run's first event, so 0 is the start and `duration_s` the end.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import typing
from array import array
from bisect import bisect_right
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

from maestro_tui.domain import events as ev
from maestro_tui.domain.state import RunState, fold
from maestro_tui.store import Store
from maestro_tui.store.codec import ENVELOPE, decode_event

CHECKPOINT_EVERY = 5_000
TAIL_LINES = 200  # AgentOutput lines kept per task for the log panes after a seek
READ_CHUNK = 5_000  # rows per read

Row = tuple[int, float, str, str, str | None]  # seq, ts, type, data, task_id: an events row
Tails = dict[str, list[str]]
_Maker = Callable[[str, int, float, Any], ev.Event]
_OUTPUT = "AgentOutput"

# The store has no public range read yet (proposed: `Store.load_events(run_id, after_seq,
# limit)` plus `decode_rows` below in store/codec.py); until it has, this is the one place that
# reads the events table, through the store's own connection and lock.


# --- decoding rows fast ---------------------------------------------------------------------


def _maker(cls: type[ev.Event]) -> _Maker | None:
    """A constructor that fills a decoded event's slots directly, or None for classes it can't.

    Generated per class (as dataclasses generate `__init__`): it checks the payload has
    exactly the class's fields and sets each slot through its descriptor, which gives an
    object equal to the one `__init__` builds, for less. Classes with tuple fields (JSON
    gives lists) take the store codec's path instead.
    """
    hints = typing.get_type_hints(cls)
    names = tuple(f.name for f in dataclasses.fields(cls) if f.name not in ENVELOPE)
    if any(typing.get_origin(hints[n]) is tuple for n in names):
        return None
    scope: dict[str, Any] = {f"_set_{n}": getattr(cls, n).__set__ for n in (*ENVELOPE, *names)}
    scope.update(_new=object.__new__, _cls=cls, _dict=dict)
    # A KeyError (a field missing) or the ValueError below send the row to the codec, which
    # names what is wrong; equal length and every name present means the same keys.
    body = "".join(f"    _set_{n}(event, data[{n!r}])\n" for n in names)
    exec(  # noqa: S102 - built from dataclass field names only
        "def make(run_id, seq, ts, data):\n"
        f"    if type(data) is not _dict or len(data) != {len(names)}:\n"
        "        raise ValueError('not the fields of this version')\n"
        "    event = _new(_cls)\n"
        "    _set_run_id(event, run_id)\n"
        "    _set_seq(event, seq)\n"
        "    _set_ts(event, ts)\n"
        f"{body}"
        "    return event\n",
        scope,
    )
    make: _Maker = scope["make"]
    return make


_MAKERS: dict[str, _Maker | None] = {}


def decode_rows(run_id: str, rows: Sequence[Row]) -> list[ev.Event]:
    """Events from rows: equal to `codec.decode_event` on each row, about 3× faster.

    All payloads are parsed in one `json.loads` call. Anything unusual (a bad payload, an
    unknown type, a field missing or extra) falls back to `decode_event`, which names the error.
    """
    try:
        payloads = json.loads("[" + ",".join([row[3] for row in rows]) + "]")
    except ValueError:
        payloads = [None] * len(rows)
    makers = _MAKERS
    out: list[ev.Event] = []
    append = out.append
    for (seq, ts, type_name, data, _), payload in zip(rows, payloads, strict=True):
        make = makers.get(type_name, ...)
        if make is ...:
            cls = ev.EVENT_TYPES.get(type_name)
            make = makers[type_name] = _maker(cls) if cls else None
        try:
            append(make(run_id, seq, ts, payload))  # type: ignore[misc]
        except (TypeError, ValueError, KeyError):  # no maker, or fields it does not take
            append(decode_event(run_id, seq, ts, type_name, data))
    return out


def last_lines(rows: Sequence[Row], lines: int) -> list[Row]:
    """The rows less the AgentOutput that `lines` later output lines of its task push out.

    A log pane that shows the last `lines` lines of each task looks the same after these rows
    as after all of them; the reducer ignores AgentOutput, so the state is the same too.
    """
    seen: dict[str | None, int] = {}
    keep: list[Row] = []
    for row in reversed(rows):
        if row[2] == _OUTPUT:
            count = seen.get(row[4], 0)
            if count >= lines:
                continue
            seen[row[4]] = count + 1
        keep.append(row)
    keep.reverse()
    return keep


async def read_rows(store: Store, run_id: str, after_seq: int, limit: int) -> list[Row]:
    """Up to `limit` rows of a run's events after `after_seq`, in seq order."""
    return await store.event_rows(run_id, after_seq, limit)


class _RowReader:
    """Reads a run's rows in chunks, asking for the next chunk as soon as it returns one."""

    def __init__(self, store: Store, run_id: str) -> None:
        self._store = store
        self._run_id = run_id
        self._next: tuple[int, int, asyncio.Task[list[Row]]] | None = None  # after, limit, read

    async def read(self, after_seq: int, limit: int) -> list[Row]:
        """Rows after `after_seq`; starts reading the chunk after them in the background."""
        ahead, self._next = self._next, None
        if ahead is not None and ahead[:2] == (after_seq, limit):
            rows = await ahead[2]
        else:
            if ahead is not None:
                ahead[2].cancel()
            rows = await read_rows(self._store, self._run_id, after_seq, limit)
        if len(rows) == limit:  # there may be more
            after = rows[-1][0]
            read = asyncio.ensure_future(read_rows(self._store, self._run_id, after, limit))
            self._next = (after, limit, read)
            await asyncio.sleep(0)  # let it hand its query to the database thread now
        return rows

    def cancel(self) -> None:
        """Drop a background read (after a seek, or when the replay closes)."""
        if self._next is not None:
            self._next[2].cancel()
            self._next = None


def _add_tails(tails: dict[str, deque[str]], events: Sequence[ev.Event], lines: int) -> set[str]:
    """Append the events' output lines to the per-task tails; return the tasks touched."""
    touched = set()
    for event in events:
        if type(event) is ev.AgentOutput:
            tail = tails.get(event.task)
            if tail is None:
                tail = tails[event.task] = deque(maxlen=lines)
            tail.append(event.text)
            touched.add(event.task)
    return touched


# The last `lines` output lines of each task of a run, in the run's order. A window function
# (SQLite 3.25, 2018) numbers each task's lines from its last, so SQLite does the reading.
_OUTPUT_TAILS = """
SELECT task_id, data FROM (
    SELECT seq, task_id, data,
        row_number() OVER (PARTITION BY task_id ORDER BY seq DESC) AS from_last
    FROM events WHERE run_id = ? AND type = 'AgentOutput'
) WHERE from_last <= ? ORDER BY seq
"""


async def output_tails(store: Store, run_id: str, lines: int = TAIL_LINES) -> list[tuple[str, str]]:
    """(task, line) for the last `lines` output lines of each task, in the order they came:
    what the log panes showed when the run stopped, for a resumed run to show again."""
    rows = await store.read(_OUTPUT_TAILS, (run_id, lines))
    out = []
    for task_id, data in rows:
        try:
            out.append((task_id, str(json.loads(data)["text"])))
        except (ValueError, KeyError, TypeError):
            continue  # a row this version cannot read is skipped here; replay names it
    return out


# --- the replayer ---------------------------------------------------------------------------


class Replayer:
    """A cursor over a stored run: `state` is the RunState after the first `index` events."""

    def __init__(
        self,
        store: Store,
        run_id: str,
        seqs: array[int],
        times: array[float],
        checkpoints: list[tuple[RunState, dict[str, tuple[str, ...]]]],
        every: int,
        tail_lines: int,
    ) -> None:
        self.store = store
        self.run_id = run_id
        self.tail_lines = tail_lines
        self._seqs = seqs
        self._times = times  # made non-decreasing at load, so bisect works
        self._checkpoints = checkpoints  # [k]: state and tails after k * every events
        self._every = every
        self._index = 0
        self._state = checkpoints[0][0]
        self._reader = _RowReader(store, run_id)
        self._ahead: list[Row] = []  # rows read but not yet applied, from self._index on
        self._ahead_at = 0

    @classmethod
    async def load(
        cls,
        store: Store,
        run_id: str,
        *,
        checkpoint_every: int = CHECKPOINT_EVERY,
        tail_lines: int = TAIL_LINES,
    ) -> Replayer:
        """Read the run once, keeping positions, checkpoints and log tails; start at 0."""
        if checkpoint_every < 1:
            raise ValueError("checkpoint_every must be at least 1")
        seqs: array[int] = array("q")
        times: array[float] = array("d")
        state = RunState()
        tails: dict[str, deque[str]] = {}
        frozen: dict[str, tuple[str, ...]] = {}
        checkpoints = [(state, frozen)]
        last_ts = float("-inf")
        reader = _RowReader(store, run_id)
        try:
            # Chunks end on checkpoints, so output lines that a later line of the same task
            # pushes out of the tail before the next checkpoint need not be decoded at all.
            while True:
                rows = await reader.read(seqs[-1] if seqs else 0, checkpoint_every)
                for row in rows:
                    last_ts = row[1] if row[1] > last_ts else last_ts
                    seqs.append(row[0])
                    times.append(last_ts)
                events = decode_rows(run_id, last_lines(rows, tail_lines))
                state = fold(events, state)
                touched = _add_tails(tails, events, tail_lines)
                if len(rows) < checkpoint_every:  # the end (of what is committed, if live)
                    break
                # Tasks without new output share the previous checkpoint's tuple.
                frozen = {**frozen, **{t: tuple(tails[t]) for t in touched}}
                checkpoints.append((state, frozen))
        finally:
            reader.cancel()
        return cls(store, run_id, seqs, times, checkpoints, checkpoint_every, tail_lines)

    def close(self) -> None:
        """Stop any background read; call when the replay is done with the store."""
        self._reader.cancel()

    # --- where we are -----------------------------------------------------------------------

    @property
    def count(self) -> int:
        """Number of events in the run."""
        return len(self._seqs)

    @property
    def index(self) -> int:
        """Number of events applied so far (0 … count)."""
        return self._index

    @property
    def position(self) -> int:
        """Seq of the last event applied; 0 before the first."""
        return self._seqs[self._index - 1] if self._index else 0

    @property
    def state(self) -> RunState:
        """The RunState at the current position."""
        return self._state

    @property
    def at_end(self) -> bool:
        """Every event has been applied."""
        return self._index >= len(self._seqs)

    @property
    def duration_s(self) -> float:
        """Elapsed run time from the first event to the last."""
        return self._times[-1] - self._times[0] if self._times else 0.0

    @property
    def elapsed_s(self) -> float:
        """Elapsed run time of the last event applied (0 before the first)."""
        return self._times[self._index - 1] - self._times[0] if self._index else 0.0

    def index_at(self, *, seq: int | None = None, elapsed: float | None = None) -> int:
        """How many events are at or before `seq`, or at or before `elapsed` seconds."""
        if (seq is None) == (elapsed is None):
            raise ValueError("give exactly one of seq or elapsed")
        if seq is not None:
            return bisect_right(self._seqs, seq)
        if not self._times or elapsed is None or elapsed < 0:
            return 0
        # A microsecond of slack: "5.1 s after 0.1 s" must find the event stamped 5.2 s.
        return bisect_right(self._times, self._times[0] + elapsed + 1e-6)

    # --- moving forward ---------------------------------------------------------------------

    async def step(self, n: int = 1, *, lines: int | None = None) -> list[ev.Event]:
        """Apply the next `n` events (fewer at the end) and return them.

        With `lines`, output lines that `lines` later lines of the same task within these
        events push out are not returned (see `last_lines`): for max speed, where a log pane
        of that many lines shows the same, and decoding them would be the main cost.
        """
        rows = await self._take(n)
        events = decode_rows(self.run_id, rows if lines is None else last_lines(rows, lines))
        self._state = fold(events, self._state)
        self._index += len(rows)
        return events

    async def advance_to(self, elapsed: float, max_events: int | None = None) -> list[ev.Event]:
        """Apply every event up to `elapsed` seconds (at most `max_events`) and return them."""
        want = self.index_at(elapsed=elapsed) - self._index
        if max_events is not None:
            want = min(want, max_events)
        return await self.step(want) if want > 0 else []

    async def _take(self, n: int) -> list[Row]:
        """The next `n` rows (fewer at the end) from the read-ahead buffer, reading as needed."""
        n = min(n, len(self._seqs) - self._index)
        out: list[Row] = []
        while len(out) < n:
            if self._ahead_at >= len(self._ahead):
                at = self._index + len(out)
                after = self._seqs[at - 1] if at else 0
                self._ahead, self._ahead_at = await self._reader.read(after, READ_CHUNK), 0
                if not self._ahead:
                    break
            take = self._ahead[self._ahead_at : self._ahead_at + n - len(out)]
            self._ahead_at += len(take)
            out += take
        return out

    # --- seeking ----------------------------------------------------------------------------

    async def seek(
        self, *, seq: int | None = None, elapsed: float | None = None
    ) -> tuple[RunState, Tails]:
        """Go to just after `seq`, or to `elapsed` seconds; return the state and log tails."""
        return await self.seek_index(self.index_at(seq=seq, elapsed=elapsed))

    async def step_back(self, n: int = 1) -> tuple[RunState, Tails]:
        """Undo the last `n` events (a seek), returning the state and log tails."""
        return await self.seek_index(self._index - n)

    async def seek_index(self, index: int) -> tuple[RunState, Tails]:
        """Go to just after the first `index` events, from the nearest checkpoint at or before."""
        index = max(0, min(index, len(self._seqs)))
        k = index // self._every
        state, frozen = self._checkpoints[k]
        tails = {task: deque(lines, maxlen=self.tail_lines) for task, lines in frozen.items()}
        self._ahead, self._ahead_at = [], 0
        self._reader.cancel()
        self._index = k * self._every
        rows = await self._take(index - self._index)
        events = decode_rows(self.run_id, last_lines(rows, self.tail_lines))
        _add_tails(tails, events, self.tail_lines)
        self._state = fold(events, state)
        self._index += len(rows)
        return self._state, {task: list(lines) for task, lines in tails.items()}
