"""The queries front ends need, on the store's own reading connection (aiosqlite).

In WAL mode a read sees every batch the writer process has committed, and never half of one.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiosqlite

from maestro_tui.domain.events import Event
from maestro_tui.store.codec import decode_event
from maestro_tui.store.records import (
    MergeRecord,
    RunSummary,
    StoreError,
    merge_record,
    run_summary,
    summary_sql,
)

_SELECT_EVENTS = (
    "SELECT seq, ts, type, data FROM events WHERE run_id = ? AND seq > ? ORDER BY seq LIMIT ?"
)
_SELECT_EVENT_ROWS = (
    "SELECT seq, ts, type, data, task_id FROM events"
    " WHERE run_id = ? AND seq > ? ORDER BY seq LIMIT ?"
)
_NO_LIMIT = -1  # SQLite: a negative LIMIT means none


class Reads:
    """The reading half of `Store` (db.py)."""

    path: Path
    _conn: aiosqlite.Connection

    async def _fetchall(self, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
        try:
            return list(await self._conn.execute_fetchall(sql, params))
        except sqlite3.Error as exc:
            raise StoreError(f"reading {self.path} failed: {exc}") from exc

    async def read(self, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
        """Rows of a read-only query (the tables are in schema.py).

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
        return [tuple(row) for row in rows]

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
