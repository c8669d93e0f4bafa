"""Events go into SQLite and come back equal, in order, across batches and reopenings."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from maestro_tui.domain import events as ev
from maestro_tui.domain.events import EVENT_TYPES
from maestro_tui.engine.bus import EventBus
from maestro_tui.store import Store
from tests.store.store_events import emit_every_event, start_run


async def test_every_event_type_round_trips_in_order(
    store: Store, bus_for: Callable[..., EventBus]
) -> None:
    emitted = emit_every_event(bus_for(store))
    await store.flush()

    loaded = await store.load_events(emitted[0].run_id)

    assert {e.type for e in emitted} == set(EVENT_TYPES), "the fixture covers every event type"
    assert loaded == emitted
    plan = next(e for e in loaded if isinstance(e, ev.PlanProposed))
    assert isinstance(plan.plan, dict) and plan.layers == (("cli",), ("tests", "docs"))


async def test_load_after_seq_batches_and_last_position(
    store: Store, bus_for: Callable[..., EventBus]
) -> None:
    emitted = emit_every_event(bus_for(store))
    await store.flush()
    run_id = emitted[0].run_id

    assert await store.load_events(run_id, after_seq=30) == emitted[30:]
    batches = [b async for b in store.iter_event_batches(run_id, batch=7)]
    assert [len(b) for b in batches[:-1]] == [7] * (len(batches) - 1)
    assert [e for b in batches for e in b] == emitted
    assert await store.last_position(run_id) == (emitted[-1].seq, emitted[-1].ts)
    rows = await store.read("SELECT type FROM events WHERE run_id = ? AND seq <= 2", (run_id,))
    assert rows == [("RunStarted",), ("PlanProposed",)]


async def test_unknown_run_has_no_events(store: Store) -> None:
    assert await store.load_events("nope") == []
    assert [b async for b in store.iter_event_batches("nope")] == []
    assert await store.last_position("nope") == (0, 0.0)


async def test_runs_do_not_mix(store: Store, bus_for: Callable[..., EventBus]) -> None:
    one, two = bus_for(store, "run-one"), bus_for(store, "run-two")
    start_run(one)
    start_run(two)
    one.emit(ev.TaskQueued, task="cli")
    await store.flush()

    assert [e.type for e in await store.load_events("run-one")][-1] == "TaskQueued"
    assert all(e.run_id == "run-two" for e in await store.load_events("run-two"))
    assert await store.last_position("run-two") == (3, (await store.load_events("run-two"))[-1].ts)


async def test_close_commits_what_was_appended_without_flush(tmp_path: Path) -> None:
    db = tmp_path / "maestro.db"
    store = await Store.open(db, flush_interval=3600)
    bus = EventBus("run-close")
    bus.subscribe(store.append)
    start_run(bus)
    for n in range(500):
        bus.emit(ev.AgentOutput, task="cli", attempt=1, text=f"line {n}")
    await store.close()

    again = await Store.open(db)
    try:
        assert [e.seq for e in await again.load_events("run-close")] == list(range(1, 504))
    finally:
        await again.close()


async def test_large_buffer_is_written_in_batches(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "maestro.db", batch_size=100)
    try:
        bus = EventBus("run-big")
        bus.subscribe(store.append)
        for n in range(9001):
            bus.emit(ev.AgentOutput, task="cli", attempt=1, text=f"line {n}")
        await store.flush()
        assert [e.seq for e in await store.load_events("run-big")] == list(range(1, 9002))
        await store.flush()  # nothing pending: returns at once
    finally:
        await store.close()


async def test_resumed_bus_continues_the_log(tmp_path: Path) -> None:
    db = tmp_path / "maestro.db"
    store = await Store.open(db)
    bus = EventBus("run-res")
    bus.subscribe(store.append)
    start_run(bus)
    await store.close()

    store = await Store.open(db)
    try:
        seq, ts = await store.last_position("run-res")
        bus = EventBus("run-res", next_seq=seq + 1, start_ts=ts)
        bus.subscribe(store.append)
        bus.emit(ev.RunResumed)
        await store.flush()
        events = await store.load_events("run-res")
        assert [e.seq for e in events] == [1, 2, 3, 4]
        assert events[-1].ts >= ts
    finally:
        await store.close()
