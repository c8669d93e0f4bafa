"""The hot path's row builders write exactly what the plain JSON encoder writes, and a batch
costs one request to the writer process, in statements SQLite has prepared before."""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiosqlite
import pytest

from maestro_tui.domain import events as ev
from maestro_tui.store import Store, bulk
from maestro_tui.store.codec import _slow_payload, decode_event, row_builder
from maestro_tui.store.writer_handle import WriterHandle
from tests.store.store_events import emit_every_event, start_run

TRICKY = (
    [
        ev.TaskQueued(run_id="r", seq=1, ts=0.0, task="t", priority=p)
        for p in (0.0, -0.0, 1e-7, 2.5, 1e300, 3, math.inf, -math.inf, math.nan)
    ]
    + [
        ev.LLMUsage(
            run_id="r", seq=2, ts=0.0, task=t, model="m", tokens_in=1, tokens_out=2, cost_usd=c
        )
        for t in (None, 'q"uote\\ é\n✓')
        for c in (None, 0.1, 1)
    ]
    + [
        ev.TestsRan(
            run_id="r", seq=3, ts=0.0, task="t", attempt=1, command="c", passed=p, exit_code=x
        )
        for p in (True, False)
        for x in (None, 0, 2)
    ]
    + [ev.TaskFinished(run_id="r", seq=4, ts=0.0, task="t", attempt=1, commit=None)]
)


@pytest.mark.parametrize("event", TRICKY, ids=repr)
def test_the_fast_payload_is_the_plain_encoders_text(event: ev.Event) -> None:
    row = row_builder(type(event))(event, 12.5)
    assert row[6] == _slow_payload(event)
    assert row[:6] == (event.run_id, event.seq, event.ts, 12.5, event.type, event.task_id)
    again = decode_event(event.run_id, event.seq, event.ts, event.type, row[6])
    assert type(again) is type(event)
    assert json.dumps(again.to_dict(), sort_keys=True) == json.dumps(
        event.to_dict(), sort_keys=True
    )


@pytest.mark.parametrize("count", [0, 1, 7, 127, 128, 129, 1000, 4097])
def test_statement_sizes_come_from_a_short_ladder(count: int) -> None:
    sizes = list(bulk.ladder(count, 128))
    assert sum(sizes) == count
    assert all(s & (s - 1) == 0 for s in sizes), "powers of two"
    assert sizes == sorted(sizes, reverse=True)
    assert len([s for s in sizes if s < 128]) <= 7


def test_batches_of_any_size_reuse_a_few_statement_texts() -> None:
    texts = {
        sql
        for count in range(1, 600)
        for sql, _ in bulk.insert("INSERT INTO t VALUES ", 7, [(0,) * 7] * count, 28_000)
    }
    assert len(texts) <= 8  # 128, 64, … 1 rows (7 × 128 ≤ 1024 parameters)


async def test_a_batch_is_one_request_and_no_trip_to_a_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = await Store.open(tmp_path / "trips.db", flush_interval=3600)
    trips = 0  # to aiosqlite's thread: a thread waits for the GIL while the loop is busy
    requests: list[str] = []
    execute: Callable[..., Awaitable[Any]] = aiosqlite.Connection._execute  # unannotated there
    send = WriterHandle.send

    async def counted(
        self: aiosqlite.Connection, fn: Callable[..., Any], *args: Any, **kwargs: Any
    ) -> Any:
        nonlocal trips
        trips += 1
        return await execute(self, fn, *args, **kwargs)

    def sent(self: WriterHandle, kind: str, body: Any) -> asyncio.Future[Any]:
        requests.append(kind)
        return send(self, kind, body)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
    monkeypatch.setattr(WriterHandle, "send", sent)
    try:
        from maestro_tui.engine.bus import EventBus

        bus = EventBus("run-trips")
        bus.subscribe(store.append)
        start_run(bus)
        # Every type but RunFinished, after which the store also keeps the run's metrics.
        emitted = emit_every_event(EventBus("run-every", next_seq=1))
        emitted = emitted[: next(n for n, e in enumerate(emitted) if e.type == "RunFinished")]
        for event in emitted:
            store.append(event)
        for n in range(1500):
            bus.emit(ev.AgentOutput, task="cli", attempt=1, text=f"line {n}")
        await store.flush()
        assert requests == ["events"], "the events and every table they change, in one request"
        assert trips == 0
    finally:
        await store.close()
    again = await Store.open(tmp_path / "trips.db")
    try:
        assert len(await again.load_events("run-trips")) == 1503
        assert await again.load_events("run-every") == emitted
    finally:
        await again.close()
