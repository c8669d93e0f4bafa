"""The writer process: the one connection that writes a run database, beside the event loop.

Why a process and not a thread: a thread that needs the GIL while the event loop is busy can
wait for it as long as the loop stays busy. Each turn of the loop lets go of the GIL for a
moment (its `select` call) and takes it back before a waiting thread wakes up, and each such
release restarts the waiter's clock, so the interpreter never forces a switch. Measured: a
batch handed to aiosqlite's thread 16 ms into a busy stretch started 430 ms later, when the
loop went idle. Here SQLite and the Python around it (laying out statements, the projection)
run on the other core, and the loop's share of storing an event is building its row and
pickling it.

Protocol, on stdin and stdout: frames of a 4-byte big-endian length and a pickle. Requests are
`(kind, body)`; each gets one reply, in order: `("ok", value)` or `("err", type, message)`.
  events      body: events rows; commits them and the table rows they imply (projection.py)
  statements  body: [(sql, parameter rows)]; runs them in a transaction of their own
  execute     body: (sql, parameters); one statement; the value is the new row's id

The process ends when stdin ends, after replying to every request it read: when the parent
dies, even by kill -9, what it had sent is committed or, for a request cut short, not at all.
It ignores the signals a terminal sends its whole process group (Ctrl-C, hang-up), so the
parent can still write its last events when it is stopping.
"""

from __future__ import annotations

import pickle
import signal
import sqlite3
import struct
import sys
from typing import IO, Any

from maestro_tui.store import bulk
from maestro_tui.store.projection import Projection

HEADER = struct.Struct(">I")
INSERT_EVENTS = "INSERT INTO events (run_id, seq, ts, wall, type, task_id, data) VALUES "
EVENT_COLUMNS = 7


def read_frame(stream: IO[bytes]) -> Any | None:
    """The next request, or None at the end of the stream (or of a frame cut short)."""
    head = stream.read(HEADER.size)
    if len(head) < HEADER.size:
        return None
    (size,) = HEADER.unpack(head)
    body = stream.read(size)
    if len(body) < size:
        return None
    return pickle.loads(body)  # noqa: S301 - from the parent process, over a private pipe


def frame(value: Any) -> bytes:
    body = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    return HEADER.pack(len(body)) + body


class Writer:
    """Runs the requests on one connection."""

    def __init__(self, conn: sqlite3.Connection, max_vars: int) -> None:
        self.conn = conn
        self.max_vars = max_vars
        self.projection = Projection(max_vars)
        self.failed = False

    def events(self, rows: list[tuple[Any, ...]]) -> int:
        if self.failed:  # committing later batches would leave a gap in the log
            raise RuntimeError("an earlier batch of events was not written")
        self.failed = True  # until this batch is committed
        statements = list(bulk.insert(INSERT_EVENTS, EVENT_COLUMNS, rows, self.max_vars))
        statements += self.projection.statements(rows)
        bulk.commit(self.conn, statements)
        self.failed = False
        return len(rows)

    def statements(self, statements: list[bulk.Statement]) -> None:
        bulk.commit(self.conn, statements)

    def execute(self, request: tuple[str, tuple[Any, ...]]) -> int:
        sql, params = request
        return self.conn.execute(sql, params).lastrowid or 0

    def handle(self, request: tuple[str, Any]) -> tuple[Any, ...]:
        kind, body = request
        try:
            return ("ok", getattr(self, kind)(body))
        except Exception as exc:  # noqa: BLE001 - every failure goes back to the parent
            return ("err", type(exc).__name__, str(exc))


def serve(path: str, max_vars: int, stdin: IO[bytes], stdout: IO[bytes]) -> None:
    conn = sqlite3.connect(path, isolation_level=None, cached_statements=bulk.CACHED_STATEMENTS)
    try:
        conn.execute("PRAGMA busy_timeout = 5000")
        conn.execute("PRAGMA synchronous = NORMAL")  # per connection; WAL is in the file
        writer = Writer(conn, max_vars)
        while (request := read_frame(stdin)) is not None:
            stdout.write(frame(writer.handle(request)))
            stdout.flush()
    finally:
        conn.close()


def main() -> None:
    """Entry point: `python -c ... PATH MAX_VARS UPDATE_FROM` (see writer_handle.py)."""
    for name in ("SIGINT", "SIGHUP", "SIGTERM", "SIGQUIT"):
        signal.signal(getattr(signal, name), signal.SIG_IGN)
    path, max_vars, update_from = sys.argv[1:4]
    bulk.UPDATE_FROM = update_from == "1"  # as the parent decided (tests turn it off)
    try:
        serve(path, int(max_vars), sys.stdin.buffer, sys.stdout.buffer)
    except BrokenPipeError:  # the parent is gone: nothing left to tell it
        pass


if __name__ == "__main__":
    main()
