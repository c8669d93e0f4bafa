"""The SQLite store: one connection, one batched writer task, and the queries front ends need.

`Store.append` is an EventBus subscriber: it only serialises the event and buffers it. A
writer task commits the buffer with `executemany`, events and the table rows they imply in
one transaction per batch, when the buffer reaches `batch_size` events or `flush_interval`
seconds after the first buffered event, whichever comes first. After a crash (even
`kill -9`) the database holds a gapless prefix of the events, and the tables agree with it.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, NoReturn

import aiosqlite

from maestro_tui.domain.events import Event, RunFinished
from maestro_tui.store import bulk
from maestro_tui.store.codec import ROW_BUILDERS, Row, decode_event, row_builder
from maestro_tui.store.projection import PROJECTED, Projection
from maestro_tui.store.records import (
    MergeRecord,
    RunSummary,
    StoreError,
    default_db_path,
    merge_record,
    run_summary,
    summary_sql,
)
from maestro_tui.store.run_metrics import compute_and_store
from maestro_tui.store.schema import (
    check_readable,
    configure,
    create_private,
    existing_file,
    migrate,
    takes_variables,
)

__all__ = ["MergeRecord", "RunSummary", "Store", "StoreError", "default_db_path"]

_INSERT_EVENTS = "INSERT INTO events (run_id, seq, ts, wall, type, task_id, data) VALUES "
_SELECT_EVENTS = (
    "SELECT seq, ts, type, data FROM events WHERE run_id = ? AND seq > ? ORDER BY seq LIMIT ?"
)
_SELECT_EVENT_ROWS = (
    "SELECT seq, ts, type, data, task_id FROM events"
    " WHERE run_id = ? AND seq > ? ORDER BY seq LIMIT ?"
)
_NO_LIMIT = -1  # SQLite: a negative LIMIT means none


class Store:
    """The run database. Open with `await Store.open(path)`; always `await close()`."""

    def __init__(
        self,
        path: Path,
        conn: aiosqlite.Connection,
        batch_size: int,
        flush_interval: float,
        max_vars: int = bulk.MAX_VARS,
    ) -> None:
        self.path = path
        self._max_vars = max_vars
        self.batch_size = batch_size
        self.flush_interval = flush_interval
        self._conn = conn
        self._projection = Projection(max_vars)
        # Buffered events rows; the projection holds the table rows they imply.
        self._buffer: list[Row] = []
        self._committed = 0  # events committed
        self._finished: list[str] = []  # runs whose RunFinished is buffered
        self._in_flight = 0  # events being committed; then come those in the buffer
        self._waiters: list[tuple[int, asyncio.Future[None]]] = []
        self._pending = asyncio.Event()  # the buffer is not empty (or we are closing)
        self._urgent = asyncio.Event()  # write now: buffer full, flush() or close()
        self._closing = False
        self._conn_closed = False
        self._error: StoreError | None = None
        self._error_reported = False  # close() raises an error nobody has seen yet
        # Reads wait for the writer's transaction so they never see half a batch.
        self._lock = asyncio.Lock()
        self._writer = asyncio.get_running_loop().create_task(
            self._write_loop(), name=f"maestro-store-writer:{path.name}"
        )

    # --- opening and closing ----------------------------------------------------------------

    @classmethod
    async def open(
        cls, path: Path, *, batch_size: int = 2000, flush_interval: float = 0.05
    ) -> Store:
        """Open (creating if needed, mode 0600) and migrate the database at `path`."""
        path = await asyncio.to_thread(create_private, path)
        try:
            conn = await aiosqlite.connect(
                path, isolation_level=None, cached_statements=bulk.CACHED_STATEMENTS
            )
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open database {path}: {exc}: pass another --db") from exc
        try:
            await configure(conn, path)
            await migrate(conn, path)
            wide = await takes_variables(conn, bulk.MAX_VARS)
            max_vars = bulk.MAX_VARS if wide else bulk.OLD_MAX_VARS
        except BaseException:
            await conn.close()
            raise
        return cls(path, conn, batch_size, flush_interval, max_vars)

    @classmethod
    async def open_read_only(cls, path: Path) -> Store:
        """Open an existing database only to read it, e.g. a run that another process writes.

        Nothing is created, migrated or written: SQLite refuses writes on this connection. In
        WAL mode a reader beside the one writer is safe, and each query sees the latest commit.
        (A reader does need the -wal and -shm files; SQLite makes empty ones if none exist.)
        """
        path = await asyncio.to_thread(existing_file, path)
        try:
            uri = f"{path.as_uri()}?mode=ro"
            conn = await aiosqlite.connect(uri, uri=True, isolation_level=None)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open database {path}: {exc}: pass another --db") from exc
        try:
            await conn.execute("PRAGMA busy_timeout = 5000")
            await check_readable(conn, path)
        except BaseException:
            await conn.close()
            raise
        return cls(path, conn, batch_size=1, flush_interval=0.0)

    async def close(self) -> None:
        """Commit everything appended, stop the writer and close the connection."""
        if self._conn_closed:
            return
        if not self._closing:
            self._closing = True
            self._pending.set()
            self._urgent.set()
        with contextlib.suppress(Exception, asyncio.CancelledError):
            await asyncio.shield(self._writer)
        self._conn_closed = True
        await self._conn.close()
        if self._error is not None and not self._error_reported:
            self._error_reported = True
            raise self._error

    # --- writing ----------------------------------------------------------------------------

    def append(self, event: Event) -> None:
        """Buffer one event for the writer. Never blocks; raises StoreError if writing failed."""
        if self._closing:  # also set when writing failed
            self._refuse(event)
        cls = event.__class__
        build = ROW_BUILDERS.get(cls) or row_builder(cls)
        try:
            row = build(event, time.time())
        except (TypeError, ValueError) as exc:
            raise self._stop_at(event, "cannot be stored as JSON", exc) from exc
        if cls in PROJECTED:
            try:
                self._projection.add(event, row[3])
            except Exception as exc:
                raise self._stop_at(event, "cannot be projected into the tables", exc) from exc
            if cls is RunFinished:
                self._finished.append(event.run_id)
        buffer = self._buffer
        buffer.append(row)
        n = len(buffer)
        if n == 1:
            self._pending.set()
        elif n == self.batch_size:  # the writer swaps the buffer: each fill crosses once
            self._urgent.set()

    def _stop_at(self, event: Event, why: str, exc: Exception) -> StoreError:
        """Storing later events would leave a gap in the log: stop writing instead."""
        error = StoreError(f"{event.type} #{event.seq} {why}: {exc}")
        self._fail(error, exc)
        self._error_reported = True
        return error

    def _refuse(self, event: Event) -> NoReturn:
        if self._error is not None:
            self._error_reported = True
            raise self._error
        raise StoreError(f"store {self.path} is closed: {event.type} #{event.seq} not saved")

    async def flush(self) -> None:
        """Return once every event appended so far is committed."""
        if self._error is not None:
            self._error_reported = True
            raise self._error
        target = self._committed + self._in_flight + len(self._buffer)
        if self._committed >= target:
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append((target, waiter))
        self._urgent.set()
        await waiter

    async def _write_loop(self) -> None:
        batch: list[Row] = []
        try:
            while True:
                await self._pending.wait()
                if not self._buffer:
                    if self._closing:
                        return
                    self._pending.clear()
                    continue
                if not self._urgent.is_set():
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(self.flush_interval):
                            await self._urgent.wait()
                self._urgent.clear()
                batch, self._buffer = self._buffer, []
                statements = self._projection.take()
                finished, self._finished = self._finished, []
                if not self._closing:
                    self._pending.clear()
                self._in_flight = len(batch)
                await self._write(batch, statements)
                self._committed += len(batch)
                self._in_flight = 0
                batch = []
                for run_id in finished:  # before the waiters: flush() covers them too
                    await self._keep_metrics(run_id)
                self._wake_waiters()
        except BaseException as exc:
            lost = batch[0] if batch else (self._buffer[0] if self._buffer else None)
            where = f" from {lost[0]} #{lost[1]} on" if lost else ""
            self._fail(
                StoreError(
                    f"writing events to {self.path} failed ({type(exc).__name__}: {exc});"
                    f" events{where} are not saved: fix the cause, then resume the run"
                ),
                exc,
            )
            if not isinstance(exc, Exception):
                raise

    async def _write(self, batch: list[Row], projected: list[bulk.Statement]) -> None:
        # Many rows per statement: see bulk.py for why not executemany. The parameters are
        # laid out here, so the database thread only binds and steps.
        statements = [*bulk.insert(_INSERT_EVENTS, 7, batch, self._max_vars), *projected]
        async with self._lock:
            await bulk.run_in_connection_thread(self._conn, bulk.commit, statements)

    async def _keep_metrics(self, run_id: str) -> None:
        """Store a finished run's coordination metrics, so listings need not replay it."""
        with contextlib.suppress(StoreError):  # a cache: listing the run computes it again
            await compute_and_store(self, run_id)

    async def commit(self, statements: list[bulk.Statement]) -> None:
        """Run statements in a transaction of their own, between the writer's batches: for
        tables derived from committed events (run_metrics). Events go through `append`."""
        async with self._lock:
            try:
                await bulk.run_in_connection_thread(self._conn, bulk.commit, statements)
            except sqlite3.Error as exc:
                raise StoreError(f"writing {self.path} failed: {exc}") from exc

    def _wake_waiters(self) -> None:
        done = self._committed
        still = []
        for target, waiter in self._waiters:
            if target <= done:
                if not waiter.done():
                    waiter.set_result(None)
            else:
                still.append((target, waiter))
        self._waiters = still

    def _fail(self, error: StoreError, cause: BaseException | None = None) -> None:
        if self._error is not None:
            return
        error.__cause__ = cause
        self._error = error
        self._closing = True
        for _, waiter in self._waiters:
            if not waiter.done():
                waiter.set_exception(error)
                self._error_reported = True
        self._waiters = []

    # --- reading ----------------------------------------------------------------------------

    async def _fetchall(self, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
        async with self._lock:
            try:
                return list(await self._conn.execute_fetchall(sql, params))
            except sqlite3.Error as exc:
                raise StoreError(f"reading {self.path} failed: {exc}") from exc

    async def execute(self, sql: str, params: tuple[Any, ...] = ()) -> int:
        """Run one writing statement now, committed on its own, between event batches; returns
        the new row's id (for an INSERT). For the few writes that are not events."""
        async with self._lock:
            try:
                cursor = await self._conn.execute(sql, params)
                return cursor.lastrowid or 0
            except sqlite3.Error as exc:
                raise StoreError(f"writing {self.path} failed: {exc}") from exc

    async def read(self, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
        """Rows of a read-only query (the tables are in schema.py), between write batches.

        For readers that need more than the methods here, e.g. replay decoding rows itself.
        """
        return await self._fetchall(sql, params)

    async def load_events(
        self, run_id: str, after_seq: int = 0, limit: int | None = None
    ) -> list[Event]:
        """Committed events of a run after `after_seq`, in seq order (flush() first for all)."""
        rows = await self._fetchall(_SELECT_EVENTS, (run_id, after_seq, limit or _NO_LIMIT))
        return [decode_event(run_id, *row) for row in rows]

    async def event_rows(
        self, run_id: str, after_seq: int, limit: int
    ) -> list[tuple[int, float, str, str, str | None]]:
        """Raw (seq, ts, type, data, task_id) rows of a range, for readers that decode lazily."""
        rows = await self._fetchall(_SELECT_EVENT_ROWS, (run_id, after_seq, limit))
        return [tuple(row) for row in rows]  # type: ignore[misc]

    async def iter_event_batches(
        self, run_id: str, batch: int = 20000
    ) -> AsyncIterator[list[Event]]:
        """Committed events of a run in seq order, `batch` at a time, for long replays."""
        after = 0
        while True:
            rows = await self._fetchall(_SELECT_EVENTS, (run_id, after, batch))
            if not rows:
                return
            after = rows[-1][0]
            yield [decode_event(run_id, *row) for row in rows]
            if len(rows) < batch:
                return

    async def last_position(self, run_id: str) -> tuple[int, float]:
        """(seq, ts) of the run's last committed event; (0, 0.0) if it has none."""
        rows = await self._fetchall(
            "SELECT seq, ts FROM events WHERE run_id = ? ORDER BY seq DESC LIMIT 1", (run_id,)
        )
        return (int(rows[0][0]), float(rows[0][1])) if rows else (0, 0.0)

    async def list_runs(self, limit: int = 200) -> list[RunSummary]:
        """The most recent runs, newest first."""
        rows = await self._fetchall(
            summary_sql("ORDER BY created_at DESC, rowid DESC LIMIT ?"), (limit,)
        )
        return [run_summary(row) for row in rows]

    async def get_run(self, run_id: str) -> RunSummary | None:
        """One run by id or by a unique prefix of it (like a short git sha)."""
        if not run_id:
            return None
        rows = await self._fetchall(summary_sql("WHERE run_id = ?"), (run_id,))
        if rows:
            return run_summary(rows[0])
        found = await self._fetchall(
            "SELECT run_id FROM runs WHERE substr(run_id, 1, ?) = ? ORDER BY run_id LIMIT 11",
            (len(run_id), run_id),
        )
        if len(found) > 1:
            names = ", ".join(r[0] for r in found[:10]) + (", …" if len(found) > 10 else "")
            raise StoreError(
                f"run id {run_id!r} is ambiguous: it starts {names}; give more characters"
            )
        if not found:
            return None
        rows = await self._fetchall(summary_sql("WHERE run_id = ?"), (found[0][0],))
        return run_summary(rows[0]) if rows else None

    async def merges(self, run_id: str, status: str | None = None) -> list[MergeRecord]:
        """The run's merge queue entries in the order they were queued, optionally by status."""
        sql = (
            'SELECT run_id, task_id, status, "commit", reasons, conflict_files, merged_commit'
            " FROM merges WHERE run_id = ?"
        )
        params: tuple[Any, ...] = (run_id,)
        if status is not None:
            sql += " AND status = ?"
            params += (status,)
        rows = await self._fetchall(sql + " ORDER BY queued_seq, task_id", params)
        return [merge_record(row) for row in rows]

    async def llm_calls(self, run_id: str) -> list[dict[str, Any]]:
        """The run's model calls in order, as plain dicts (cost_usd None: unknown price)."""
        cols = (
            "seq",
            "task_id",
            "model",
            "tokens_in",
            "tokens_out",
            "cost_usd",
            "latency_s",
            "simulated",
            "ts",
        )
        rows = await self._fetchall(
            f"SELECT {', '.join(cols)} FROM llm_calls WHERE run_id = ? ORDER BY seq", (run_id,)
        )
        calls = [dict(zip(cols, row, strict=True)) for row in rows]
        for call in calls:
            call["simulated"] = bool(call["simulated"])
        return calls
