"""Following a run that another connection writes: catch up, poll, notice the end — read-only."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from maestro_tui.domain import events as ev
from maestro_tui.domain.state import fold
from maestro_tui.engine.bus import EventBus
from maestro_tui.engine.history import PROC_LOCKS, Follower, lock_holder
from maestro_tui.engine.runlock import run_lock
from maestro_tui.store import Store, StoreError
from tests.engine.test_replayer import RUN, Clock, emit_run, expected_tails


def a_run() -> list[ev.Event]:
    """The events of a small recorded run (385 of them), not stored anywhere yet."""
    return emit_run(EventBus(RUN, clock=Clock()))


@pytest.fixture
async def writer(tmp_path: Path) -> AsyncIterator[Store]:
    """The driving process's store: the one writer of the database."""
    store = await Store.open(tmp_path / "maestro.db")
    yield store
    await store.close()


async def write(store: Store, events: list[ev.Event]) -> None:
    for event in events:
        store.append(event)
    await store.flush()


async def test_catch_up_then_poll_sees_every_event_once_in_order(writer: Store) -> None:
    events = a_run()
    await write(writer, events[:200])
    reader = await Store.open_read_only(writer.path)
    try:
        follower = Follower(reader, RUN, tail_lines=50)
        tails = await follower.catch_up()
        assert follower.state == fold(events[:200]) and follower.count == 200
        assert tails == expected_tails(events, 200, 50)
        assert not follower.ended
        assert await follower.poll() == []  # nothing new yet

        await write(writer, events[200:])
        seen: list[ev.Event] = []
        while batch := await follower.poll(limit=64):
            seen += batch
        assert seen == events[200:]
        assert follower.state == fold(events) and follower.count == len(events)
        assert follower.ended and follower.seq == events[-1].seq
    finally:
        await reader.close()


async def test_an_interrupted_run_has_ended_until_it_is_resumed(writer: Store) -> None:
    bus = EventBus(RUN, clock=Clock())
    bus.subscribe(writer.append)
    emitted: list[ev.Event] = []
    bus.subscribe(emitted.append)
    bus.emit(ev.RunStarted, goal="g", repo="/r", base_branch="main", base_commit="abc",
             integration_branch="maestro/r", merge_policy="auto", max_agents=1)  # fmt: skip
    bus.emit(ev.RunPaused, reason="interrupted")
    bus.emit(ev.RunFinished, status="interrupted", merged=0, failed=0, waiting=0)
    await writer.flush()
    reader = await Store.open_read_only(writer.path)
    try:
        follower = Follower(reader, RUN)
        await follower.catch_up()
        assert follower.ended  # Ctrl-C in the driving terminal ends the watch too
        bus.emit(ev.RunResumed)  # a `resume` starts it again
        await writer.flush()
        assert await follower.poll() == emitted[-1:]
        assert not follower.ended
    finally:
        await reader.close()


async def test_a_read_only_store_writes_nothing(writer: Store) -> None:
    events = a_run()
    await write(writer, events[:10])
    reader = await Store.open_read_only(writer.path)
    try:
        with pytest.raises(StoreError, match="open read-only: .* not saved"):
            reader.append(events[10])
        with pytest.raises(StoreError, match="open read-only: nothing can be written"):
            await reader.execute("DELETE FROM events")
        assert reader.writer_pid is None  # no writer process was started
    finally:
        await reader.close()
    with contextlib.closing(sqlite3.connect(writer.path)) as conn:
        assert conn.execute("SELECT count(*) FROM events").fetchone() == (10,)


async def test_read_only_open_refuses_what_is_not_a_maestro_database(tmp_path: Path) -> None:
    missing = tmp_path / "nothing-here.db"
    with pytest.raises(StoreError, match="no database at"):
        await Store.open_read_only(missing)
    assert not missing.exists()  # a reader creates no database
    other = tmp_path / "other.db"
    with contextlib.closing(sqlite3.connect(other)) as conn:
        conn.execute("CREATE TABLE notes (x)")
        conn.commit()
    with pytest.raises(StoreError, match="not a maestro-tui database"):
        await Store.open_read_only(other)
    text = tmp_path / "text.db"
    text.write_text("just some text, long enough to be read as a database header" * 20)
    with pytest.raises(StoreError, match="not a maestro-tui database"):
        await Store.open_read_only(text)


@pytest.mark.skipif(not PROC_LOCKS.exists(), reason="the kernel's lock table is Linux's")
def test_lock_holder_reads_the_lock_without_taking_it(tmp_path: Path) -> None:
    db = tmp_path / "maestro.db"
    assert lock_holder(db, RUN) is None  # no lock file yet
    with run_lock(db, RUN):
        assert lock_holder(db, RUN) == os.getpid()
        assert lock_holder(db, RUN) == os.getpid()  # asking did not take or drop it
    assert lock_holder(db, RUN) is None  # the file stays, with our (live) pid in it
