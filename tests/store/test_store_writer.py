"""The writer process: batches in flight commit in order and stop at the first failure; it
survives the signals a terminal sends, and its death is reported, not waited on."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from maestro_tui.domain import events as ev
from maestro_tui.engine.bus import EventBus
from maestro_tui.store import Store, StoreError, bulk
from maestro_tui.store.codec import Row, row_builder
from maestro_tui.store.schema import MIGRATIONS
from maestro_tui.store.writer import Writer
from tests.store.store_events import start_run, table


def rows_of(bus: EventBus, count: int, task: str = "cli") -> list[Row]:
    events = [
        bus.emit(ev.AgentOutput, task=task, attempt=1, text=f"line {n}") for n in range(count)
    ]
    return [row_builder(type(e))(e, 0.0) for e in events]


def test_after_a_failed_batch_later_batches_are_refused(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "w.db", isolation_level=None)
    for migration in MIGRATIONS:
        for statement in migration:
            conn.execute(statement)
    writer = Writer(conn, bulk.MAX_VARS)
    bus = EventBus("run-w")
    first, second, third = rows_of(bus, 3), rows_of(bus, 3), rows_of(bus, 3)
    assert writer.handle(("events", first)) == ("ok", 3)
    # The same rows again cannot commit: the batch after it, though fine, must not either,
    # or the log would have a gap where the failed batch was.
    assert writer.handle(("events", first))[:2] == ("err", "IntegrityError")
    assert writer.handle(("events", second))[:2] == ("err", "RuntimeError")
    assert writer.handle(("events", third))[:2] == ("err", "RuntimeError")
    assert conn.execute("SELECT max(seq) FROM events").fetchone() == (3,)
    # Writes that are not events still go through (steering messages, run metrics).
    assert writer.handle(("execute", ("UPDATE runs SET goal = 'x'", ())))[0] == "ok"


async def test_a_failure_in_a_pipelined_batch_stops_the_log_there(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "m.db", batch_size=50)
    bus = EventBus("run-pipe")
    bus.subscribe(store.append)
    start_run(bus)
    await store.flush()
    sent = []
    for n in range(400):  # eight batches, several of them on their way at once
        bus.emit(ev.AgentOutput, task="cli", attempt=1, text=f"line {n}")
        if n == 120:
            store.append(bus.emit(ev.TaskQueued, task="docs"))  # its seq twice: cannot commit
        if n % 50 == 0:
            await asyncio.sleep(0)  # the writer task sends what is buffered
            sent.append(store._in_flight)
    assert max(sent) > 50, "more than one batch was on its way at some point"
    with pytest.raises(StoreError, match="UNIQUE constraint") as caught:
        await store.flush()
    assert "resume the run" in str(caught.value)
    seqs = [seq for (seq,) in table(store.path, "SELECT seq FROM events ORDER BY seq")]
    assert seqs == list(range(1, len(seqs) + 1)), "a gapless prefix"
    assert len(seqs) < 3 + 122
    await store.close()  # flush() reported the error: close() does not raise it again


async def test_the_writer_ignores_ctrl_c_and_hang_up(
    store: Store, bus_for: Callable[..., EventBus]
) -> None:
    bus = bus_for(store)
    start_run(bus)
    await store.flush()
    pid = store.writer_pid
    assert pid is not None
    for sig in (signal.SIGINT, signal.SIGHUP, signal.SIGTERM):
        os.kill(pid, sig)
    await asyncio.sleep(0.1)
    bus.emit(ev.TaskQueued, task="cli")
    await store.flush()
    assert [e.seq for e in await store.load_events(bus.run_id)] == [1, 2, 3, 4]


async def test_a_killed_writer_is_reported_with_how_it_died(
    tmp_path: Path, bus_for: Callable[..., EventBus]
) -> None:
    store = await Store.open(tmp_path / "k.db")
    bus = bus_for(store)
    start_run(bus)
    await store.flush()
    assert store.writer_pid is not None
    os.kill(store.writer_pid, signal.SIGKILL)
    bus.emit(ev.TaskQueued, task="cli")
    async with asyncio.timeout(10):
        with pytest.raises(StoreError, match="writer process was killed by signal 9"):
            await store.flush()
        with pytest.raises(StoreError, match=r"TaskQueued #4|writing events"):
            bus.emit(ev.TaskQueued, task="docs")
        await store.close()  # the error was seen: close does not raise it again
    assert [e.seq for e in await _events(store.path, bus.run_id)] == [1, 2, 3]


async def _events(path: Path, run_id: str) -> list[ev.Event]:
    reader = await Store.open_read_only(path)
    try:
        return await reader.load_events(run_id)
    finally:
        await reader.close()


async def test_reading_stores_start_no_writer(
    tmp_path: Path, bus_for: Callable[..., EventBus]
) -> None:
    store = await Store.open(tmp_path / "r.db")
    try:
        await store.list_runs()
        assert store.writer_pid is None  # `runs`, the launcher's history: no second process
        start_run(bus_for(store))
        await store.flush()
        assert store.writer_pid is not None
    finally:
        await store.close()


async def test_a_writer_that_cannot_start_names_the_first_event_not_saved(
    tmp_path: Path, bus_for: Callable[..., EventBus], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The handle starts the writer with sys.executable.
    monkeypatch.setattr(sys, "executable", str(tmp_path / "no-python"))
    store = await Store.open(tmp_path / "s.db")
    bus = bus_for(store, "run-s")
    start_run(bus)
    with pytest.raises(StoreError, match=r"FileNotFoundError.*events from run-s #1 on"):
        await store.flush()
    await store.close()
