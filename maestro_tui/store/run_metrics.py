"""The run_metrics table: each run's coordination metrics, computed once from its events.

Listing runs with their metrics meant reading every run's events. The store computes a run's
metrics when its RunFinished is committed and keeps them with the seq they were computed up
to and the version of the definitions; a run with no row (recorded before the table
existed, or interrupted), or with a row older than its last event (resumed since) or than the
definitions, is computed again when it is next listed, and stored.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any, Protocol

from maestro_tui.domain.metrics import METRICS_VERSION, NOT_READ, RunMetrics, compute_metrics
from maestro_tui.store.bulk import Statement
from maestro_tui.store.codec import decode_event


class MetricSource(Protocol):
    """What this module needs of store.db.MetricSource (which calls it when a run finishes)."""

    async def read(self, sql: str, params: tuple[Any, ...] = ()) -> list[Any]: ...

    async def last_position(self, run_id: str) -> tuple[int, float]: ...

    async def commit(self, statements: list[Statement]) -> None: ...


_SKIPPED = tuple(cls.__name__ for cls in NOT_READ)
_EVENTS = (
    "SELECT seq, ts, type, data FROM events WHERE run_id = ? AND seq <= ?"
    f" AND type NOT IN ({','.join('?' * len(_SKIPPED))}) ORDER BY seq"
)
_STORE = "INSERT OR REPLACE INTO run_metrics (run_id, upto_seq, version, data, computed_at)"


async def stored_metrics(store: MetricSource, run_ids: Sequence[str]) -> dict[str, RunMetrics]:
    """The runs' stored metrics that are still current (same last event, same definitions)."""
    found: dict[str, RunMetrics] = {}
    for at in range(0, len(run_ids), 500):  # well under SQLite's parameter limit
        chunk = run_ids[at : at + 500]
        rows = await store.read(
            "SELECT m.run_id, m.data FROM run_metrics m"
            f" WHERE m.run_id IN ({','.join('?' * len(chunk))}) AND m.version = ?"
            " AND m.upto_seq = (SELECT max(seq) FROM events e WHERE e.run_id = m.run_id)",
            (*chunk, METRICS_VERSION),
        )
        for run_id, data in rows:
            try:
                found[run_id] = RunMetrics.from_dict(json.loads(data))
            except (ValueError, TypeError):
                continue  # unreadable: computed again
    return found


async def compute_and_store(store: MetricSource, run_id: str) -> RunMetrics | None:
    """Compute a run's metrics from its committed events and store them; None if the run has
    no events or an event this version cannot read."""
    upto, _ = await store.last_position(run_id)
    if not upto:
        return None
    rows = await store.read(_EVENTS, (run_id, upto, *_SKIPPED))
    try:
        metrics = compute_metrics([decode_event(run_id, *row) for row in rows])
    except ValueError:
        return None
    data = json.dumps(metrics.to_dict())
    values = [(run_id, upto, METRICS_VERSION, data, time.time())]
    await store.commit([(f"{_STORE} VALUES (?, ?, ?, ?, ?)", values)])
    return metrics


async def metrics_of(store: MetricSource, run_ids: Sequence[str]) -> dict[str, RunMetrics]:
    """Each run's metrics: stored ones as they are, the others computed once and stored.

    A run whose events cannot be read is left out.
    """
    found = await stored_metrics(store, run_ids)
    for run_id in run_ids:
        if run_id not in found:
            metrics = await compute_and_store(store, run_id)
            if metrics is not None:
                found[run_id] = metrics
    return found
