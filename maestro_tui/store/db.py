"""The SQLite store: events buffered here, committed by the writer process, read back here.

`Store.append` is an EventBus subscriber: it only serialises the event and buffers it. A
writer task sends the buffer to the writer process (writer.py), which commits the events and
the table rows they imply in one transaction per batch, when the buffer reaches `batch_size`
events or `flush_interval` seconds after the first buffered event, whichever comes first. A
few batches may be on their way at once; the process commits them in order and stops at the
first that fails, so after a crash (even `kill -9`) the database holds a gapless prefix of
the events, and the tables agree with it. Reads (reads.py) use this process's own connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from pathlib import Path
from typing import Any, NoReturn

import aiosqlite

from maestro_tui.domain.events import Event, RunFinished
from maestro_tui.store import bulk
from maestro_tui.store.codec import ROW_BUILDERS, Row, row_builder
from maestro_tui.store.outcomes import refresh as refresh_outcomes
from maestro_tui.store.reads import Reads
from maestro_tui.store.records import MergeRecord, RunSummary, StoreError, default_db_path
from maestro_tui.store.run_metrics import compute_and_store
from maestro_tui.store.schema import (
    check_readable,
    configure,
    create_private,
    existing_file,
    migrate,
    takes_variables,
)
from maestro_tui.store.writer_handle import WriterHandle

__all__ = ["MergeRecord", "RunSummary", "Store", "StoreError", "default_db_path"]

# Batches sent and not yet committed, at most: enough that the writer process always has the
# next one at hand while this one commits, few enough that a burst is held here, not in pipes.
BATCHES_IN_FLIGHT = 2


class _Sent:
    """A batch on its way: the reply to await and what to do once it is committed."""

    __slots__ = ("count", "finished", "first", "reply")

    def __init__(
        self, reply: asyncio.Future[Any], first: Row, count: int, finished: list[str]
    ) -> None:
        self.reply, self.first, self.count, self.finished = reply, first, count, finished


class Store(Reads):
    """The run database. Open with `await Store.open(path)`; always `await close()`."""

    def __init__(
        self,
        path: Path,
        conn: aiosqlite.Connection,
        batch_size: int,
        flush_interval: float,
        max_vars: int = bulk.MAX_VARS,
        read_only: bool = False,
    ) -> None:
        self.path = path
        self.read_only = read_only
        self._max_vars = max_vars
        self.batch_size = batch_size
        self.flush_interval = flush_interval
        self._conn = conn
        self._handle: WriterHandle | None = None  # started by the first write
        self._buffer: list[Row] = []  # events rows not yet sent to the writer process
        self._committed = 0  # events committed
        self._finished: list[str] = []  # runs whose RunFinished is buffered
        self._in_flight = 0  # events sent, not yet committed; then come those in the buffer
        self._waiters: list[tuple[int, asyncio.Future[None]]] = []
        self._pending = asyncio.Event()  # the buffer is not empty (or we are closing)
        self._urgent = asyncio.Event()  # write now: buffer full, flush() or close()
        self._window = asyncio.Semaphore(BATCHES_IN_FLIGHT)
        self._sent: asyncio.Queue[_Sent | None] = asyncio.Queue()
        self._closing = False
        self._conn_closed = False
        self._error: StoreError | None = None
        self._error_reported = False  # close() raises an error nobody has seen yet
        loop = asyncio.get_running_loop()
        self._writer = loop.create_task(self._write_loop(), name=f"maestro-store:{path.name}")
        self._acker = loop.create_task(self._ack_loop(), name=f"maestro-store-acks:{path.name}")

    # --- opening and closing ----------------------------------------------------------------

    @classmethod
    async def open(
        cls,
        path: Path,
        *,
        batch_size: int = 2000,
        flush_interval: float = 0.05,
        max_vars: int | None = None,
    ) -> Store:
        """Open (creating if needed, mode 0600) and migrate the database at `path`.

        `max_vars` lowers the parameters per statement below what this SQLite takes (tests).
        """
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
            limit = bulk.MAX_VARS if wide else bulk.OLD_MAX_VARS
            max_vars = min(limit, max_vars or limit)
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
        return cls(path, conn, batch_size=1, flush_interval=0.0, read_only=True)

    async def close(self) -> None:
        """Commit everything appended, stop the writer and close the connection."""
        if self._conn_closed:
            return
        if not self._closing:
            self._closing = True
            self._pending.set()
            self._urgent.set()
        for task in (self._writer, self._acker):
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.shield(task)
        self._conn_closed = True
        try:
            if self._handle is not None:
                await self._handle.close()
        finally:
            await self._conn.close()
        if self._error is not None and not self._error_reported:
            self._error_reported = True
            raise self._error

    @property
    def writer_pid(self) -> int | None:
        """The writer process's pid, once something was written."""
        return self._handle.pid if self._handle is not None else None

    # --- events -----------------------------------------------------------------------------

    def append(self, event: Event) -> None:
        """Buffer one event for the writer. Never blocks; raises StoreError if writing failed."""
        if self._closing or self.read_only:  # closing is also set when writing failed
            self._refuse(event)
        cls = event.__class__
        build = ROW_BUILDERS.get(cls) or row_builder(cls)
        try:
            row = build(event, time.time())
        except (TypeError, ValueError) as exc:
            raise self._stop_at(event, "cannot be stored as JSON", exc) from exc
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
        state = "open read-only" if self.read_only else "closed"
        raise StoreError(f"store {self.path} is {state}: {event.type} #{event.seq} not saved")

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
        """Send the buffer when it is full, flushed, or `flush_interval` old."""
        try:
            while True:
                await self._pending.wait()
                if self._error is not None:
                    return
                if not self._buffer:
                    if self._closing:
                        return
                    self._pending.clear()
                    continue
                if not self._urgent.is_set():
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(self.flush_interval):
                            await self._urgent.wait()
                await self._window.acquire()  # meanwhile the buffer keeps filling
                # Started before the buffer is taken: if it cannot start, the error names
                # the first event not saved.
                handle = await self._writer_handle()
                if self._error is not None:
                    return
                self._urgent.clear()
                batch, self._buffer = self._buffer, []
                finished, self._finished = self._finished, []
                if not self._closing:
                    self._pending.clear()
                self._in_flight += len(batch)
                reply = handle.send("events", batch)
                self._sent.put_nowait(_Sent(reply, batch[0], len(batch), finished))
                await handle.drain()
        except BaseException as exc:
            self._fail(self._not_saved(exc, self._buffer[0] if self._buffer else None), exc)
            if not isinstance(exc, Exception):
                raise
        finally:
            self._sent.put_nowait(None)

    async def _ack_loop(self) -> None:
        """Take the writer's replies in order: count what is committed, wake flush()."""
        while (sent := await self._sent.get()) is not None:
            try:
                await sent.reply
            except Exception as exc:  # noqa: BLE001 - the first failure stops the log
                self._fail(self._not_saved(exc, sent.first), exc)
                continue
            finally:
                self._window.release()
            self._committed += sent.count
            self._in_flight -= sent.count
            for run_id in sent.finished:  # before the waiters: flush() covers them too
                await self._keep_metrics(run_id)
            self._wake_waiters()

    def _not_saved(self, exc: BaseException, first: Row | None) -> StoreError:
        where = f" from {first[0]} #{first[1]} on" if first else ""
        return StoreError(
            f"writing events to {self.path} failed ({type(exc).__name__}: {exc});"
            f" events{where} are not saved: fix the cause, then resume the run"
        )

    async def _writer_handle(self) -> WriterHandle:
        if self.read_only:
            raise StoreError(f"store {self.path} is open read-only: nothing can be written")
        if self._handle is None:
            self._handle = await WriterHandle.start(self.path, self._max_vars)
        return self._handle

    async def _keep_metrics(self, run_id: str) -> None:
        """Store a finished run's coordination metrics and task outcomes, so listings,
        `compare` and `stats` need not replay it."""
        with contextlib.suppress(StoreError):  # a cache: listing the run computes it again
            await compute_and_store(self, run_id)
            await refresh_outcomes(self, [run_id])

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
        self._pending.set()  # the write loop sees the error and stops
        for _, waiter in self._waiters:
            if not waiter.done():
                waiter.set_exception(error)
                self._error_reported = True
        self._waiters = []

    # --- other writes -----------------------------------------------------------------------

    async def commit(self, statements: list[bulk.Statement]) -> None:
        """Run statements in a transaction of their own, after the batches sent before: for
        tables derived from committed events (run_metrics). Events go through `append`."""
        await self._request("statements", statements)

    async def execute(self, sql: str, params: tuple[Any, ...] = ()) -> int:
        """Run one writing statement, committed on its own, after the batches sent before;
        returns the new row's id (for an INSERT). For the few writes that are not events."""
        return int(await self._request("execute", (sql, params)))

    async def _request(self, kind: str, body: Any) -> Any:
        if self._conn_closed:
            raise StoreError(f"store {self.path} is closed: nothing more can be written")
        try:
            return await (await self._writer_handle()).request(kind, body)
        except Exception as exc:
            raise StoreError(f"writing {self.path} failed: {exc}") from exc
