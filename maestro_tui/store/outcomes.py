"""The task_outcomes table: each run's task outcomes, computed once from its events.

`compare` and `stats` read what every task of a run came to (domain/outcomes.py). Reading
and folding a run's events costs milliseconds; over a history of a thousand runs, seconds.
So the outcomes are computed when a run finishes (OutcomeSource keeps them with its metrics), and
kept with the seq they were computed up to and the version of the definitions, as the
run_metrics table is: a run with no row, or with a row older than its last event (resumed
since) or than the definitions, is computed again when next read, and stored.

The scoreboard is then one aggregate over this table (`scores`).
"""

from __future__ import annotations

import dataclasses
import time
from collections import Counter
from collections.abc import Sequence
from typing import Any, Protocol

from maestro_tui.domain.outcomes import NOT_READ, OUTCOMES_VERSION, TaskOutcome, task_outcomes
from maestro_tui.domain.scoreboard import Score
from maestro_tui.store.bulk import Statement
from maestro_tui.store.codec import decode_event


class OutcomeSource(Protocol):
    """What this module needs of store.db.Store."""

    async def read(self, sql: str, params: tuple[Any, ...] = ()) -> list[Any]: ...

    async def commit(self, statements: list[Statement]) -> None: ...


FIELDS = tuple(f.name for f in dataclasses.fields(TaskOutcome))
_COLUMNS = ", ".join(f'"{name}"' for name in FIELDS)
_SKIPPED = tuple(cls.__name__ for cls in NOT_READ)
_EVENTS = (
    "SELECT seq, ts, type, data FROM events WHERE run_id = ?"
    f" AND type NOT IN ({','.join('?' * len(_SKIPPED))}) ORDER BY seq"
)
_INSERT = (
    f"INSERT INTO task_outcomes (ordinal, {_COLUMNS}) VALUES ({', '.join('?' * (len(FIELDS) + 1))})"
)
_MARK = "INSERT OR REPLACE INTO outcome_runs (run_id, upto_seq, version, computed_at)"
_BOOLEAN = ("started", "merged", "simulated")


def _row(ordinal: int, o: TaskOutcome) -> tuple[Any, ...]:
    values = dataclasses.astuple(o)
    return (ordinal, *(int(v) if isinstance(v, bool) else v for v in values))


def _outcome(row: Sequence[Any]) -> TaskOutcome:
    data = dict(zip(FIELDS, row, strict=True))
    for name in _BOOLEAN:
        data[name] = bool(data[name])
    if data["first_try_green"] is not None:
        data["first_try_green"] = bool(data["first_try_green"])
    return TaskOutcome(**data)


async def stale_runs(
    store: OutcomeSource, where: str = "", params: tuple[Any, ...] = ()
) -> list[str]:
    """Runs (of those `where` picks, a condition on `r`, the runs table) whose stored outcomes
    are missing or out of date."""
    rows = await store.read(
        "SELECT r.run_id FROM runs r LEFT JOIN outcome_runs o"
        " ON o.run_id = r.run_id AND o.version = ?"
        f" WHERE ({where or '1'}) AND (o.run_id IS NULL"
        " OR o.upto_seq != coalesce((SELECT max(seq) FROM events e WHERE e.run_id = r.run_id), 0))",
        (OUTCOMES_VERSION, *params),
    )
    return [r[0] for r in rows]


async def compute(store: OutcomeSource, run_id: str) -> tuple[list[TaskOutcome], list[Statement]]:
    """A run's outcomes from its committed events, and the statements that store them.

    An event this version cannot read leaves the run with no outcomes (it is skipped)."""
    rows = await store.read(_EVENTS, (run_id, *_SKIPPED))
    upto = 0
    if rows:
        last = await store.read("SELECT max(seq) FROM events WHERE run_id = ?", (run_id,))
        upto = int(last[0][0] or 0)
    try:
        outcomes = task_outcomes([decode_event(run_id, *row) for row in rows])
    except ValueError:
        outcomes = []
    statements: list[Statement] = [
        ("DELETE FROM task_outcomes WHERE run_id = ?", [(run_id,)]),
        (f"{_MARK} VALUES (?, ?, ?, ?)", [(run_id, upto, OUTCOMES_VERSION, time.time())]),
    ]
    if outcomes:
        statements.append((_INSERT, [_row(n, o) for n, o in enumerate(outcomes)]))
    return outcomes, statements


async def refresh(store: OutcomeSource, run_ids: Sequence[str]) -> None:
    """Compute and store the outcomes of these runs, in one transaction."""
    statements: list[Statement] = []
    for run_id in run_ids:
        statements.extend((await compute(store, run_id))[1])
    if statements:
        await store.commit(statements)


async def outcomes_of(store: OutcomeSource, run_ids: Sequence[str]) -> dict[str, list[TaskOutcome]]:
    """Each run's task outcomes, stored ones as they are, the others computed and stored."""
    marks = ",".join("?" * len(run_ids))
    await refresh(store, await stale_runs(store, f"r.run_id IN ({marks})", tuple(run_ids)))
    rows = await store.read(
        f"SELECT {_COLUMNS} FROM task_outcomes WHERE run_id IN ({marks}) ORDER BY run_id, ordinal",
        tuple(run_ids),
    )
    found: dict[str, list[TaskOutcome]] = {run_id: [] for run_id in run_ids}
    for row in rows:
        found[row[0]].append(_outcome(row))
    return found


# The scoreboard's counts per worker × model × role, over settled units that ran here
# (candidates, not the ensemble's task: their worker is "ensemble of N").
_SCORES = """
SELECT o.worker, o.model, o.role, count(*), sum(o.merged),
    count(o.first_try_green), coalesce(sum(o.first_try_green), 0),
    count(o.fix_rounds), coalesce(sum(o.fix_rounds), 0),
    sum(o.conflicts > 0), total(o.cost_usd), sum(o.unpriced_calls), max(o.simulated),
    total(CASE WHEN o.merged THEN o.wall_s END), count(CASE WHEN o.merged THEN o.wall_s END),
    count(DISTINCT o.run_id), sum(o.merged AND o.status = 'merged')
FROM task_outcomes o JOIN runs r ON r.run_id = o.run_id
WHERE o.started AND o.taken_over = ''
    AND o.status IN ('merged', 'done', 'failed', 'blocked', 'cancelled', 'rejected', 'waiting')
    AND NOT (o.candidate = 0 AND o.worker LIKE 'ensemble of %')
    AND NOT (o.candidate = 0 AND EXISTS (SELECT 1 FROM task_outcomes c WHERE
        c.run_id = o.run_id AND c.task_id = o.task_id AND c.candidate > 0))
    AND ({where})
GROUP BY o.worker, o.model, o.role
ORDER BY o.role, count(*) DESC, o.worker, o.model
"""
# Of the merged units those groups count, how many per group are in `{among}` (reverted
# ones, or those of repositories whose history cannot be read).
_MERGED_AMONG = """
SELECT o.worker, o.model, o.role, count(*)
FROM task_outcomes o JOIN runs r ON r.run_id = o.run_id
WHERE o.started AND o.taken_over = '' AND o.merged AND o.status = 'merged'
    AND NOT (o.candidate = 0 AND EXISTS (SELECT 1 FROM task_outcomes c WHERE
        c.run_id = o.run_id AND c.task_id = o.task_id AND c.candidate > 0))
    AND ({where}) AND ({among})
GROUP BY o.worker, o.model, o.role
"""
_CHUNK = 400  # pairs per query: well under SQLite's parameter limit


def selection(since: float | None, repo: str | None) -> tuple[str, tuple[Any, ...]]:
    """The runs a scoreboard covers, as a condition on `r` (the runs table) and its params."""
    where: list[str] = ["r.kind = 'run'"]
    params: list[Any] = []
    if since is not None:
        where.append("r.created_at >= ?")
        params.append(since)
    if repo is not None:
        where.append("r.repo = ?")
        params.append(repo)
    return " AND ".join(where), tuple(params)


async def scores(
    store: OutcomeSource, since: float | None = None, repo: str | None = None
) -> list[Score]:
    """The scoreboard of the runs picked (stale outcomes are computed first), no reverts."""
    where, params = selection(since, repo)
    await refresh(store, await stale_runs(store, where, params))
    rows = await store.read(_SCORES.format(where=where), params)
    return [
        Score(
            worker=r[0],
            model=r[1],
            role=r[2],
            tasks=r[3],
            merged=r[4],
            green_known=r[5],
            green_first=r[6],
            fix_known=r[7],
            fix_rounds=r[8],
            conflicts=r[9],
            cost_usd=r[10],
            unpriced_calls=r[11],
            simulated=bool(r[12]),
            merged_wall_s=r[13],
            merged_timed=r[14],
            runs=r[15],
            landed=r[16],
        )
        for r in rows
    ]


async def repositories(
    store: OutcomeSource, since: float | None = None, repo: str | None = None
) -> list[tuple[str, float]]:
    """(repository, when its first run picked started) of the runs a scoreboard covers."""
    where, params = selection(since, repo)
    sql = f"SELECT r.repo, min(r.created_at) FROM runs r WHERE {where} GROUP BY r.repo"
    return [(r[0], float(r[1])) for r in await store.read(sql, params)]


async def merged_among(
    store: OutcomeSource,
    since: float | None = None,
    repo: str | None = None,
    *,
    units: Sequence[tuple[str, str]] = (),
    runs: Sequence[str] = (),
    repos: Sequence[str] = (),
) -> Counter[tuple[str, str, str]]:
    """Merged units the scoreboard counts, per (worker, model, role), that are among `units`
    ((run, task) pairs), of `runs`, or in `repos`: a few reverts are looked up, not every
    merged unit of the history read."""
    where, params = selection(since, repo)
    found: Counter[tuple[str, str, str]] = Counter()
    queries: list[tuple[str, tuple[Any, ...]]] = []
    for at in range(0, len(units), _CHUNK):
        chunk = units[at : at + _CHUNK]
        among = f"(o.run_id, o.task_id) IN (VALUES {','.join(['(?, ?)'] * len(chunk))})"
        queries.append((among, tuple(v for pair in chunk for v in pair)))
    for column, names in (("o.run_id", runs), ("r.repo", repos)):
        for at in range(0, len(names), _CHUNK):
            some = names[at : at + _CHUNK]
            queries.append((f"{column} IN ({','.join('?' * len(some))})", tuple(some)))
    for among, values in queries:
        sql = _MERGED_AMONG.format(where=where, among=among)
        for worker, model, role, count in await store.read(sql, (*params, *values)):
            found[(worker, model, role)] += count
    return found
