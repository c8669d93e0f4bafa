"""Store throughput: ~200k events (mostly AgentOutput) emitted on an EventBus into SQLite.

Measured from the first emit until `Store.flush()` returns, so serialising, buffering,
handing batches to the writer process, the projection and every commit count. Baseline,
same run: plain sqlite3 `executemany` of the same rows (same JSON payload, same events
table, same batch size, WAL, synchronous=NORMAL), with the rows built beforehand. Target:
the store sustains ≥ 0.5× the baseline.
"""

from __future__ import annotations

import asyncio
import resource
import sqlite3
import tempfile
import time
from pathlib import Path
from typing import Any

from maestro_tui.domain import events as ev
from maestro_tui.engine.bus import EventBus
from maestro_tui.store import Store
from maestro_tui.store.codec import encode_payload
from maestro_tui.store.schema import MIGRATIONS

EVENTS = 200_000
BATCH = 2000  # the store's default batch size
YIELD_EVERY = 200  # a producer yields to the loop like agents streaming output do
REPEATS = 5  # best of: the machine is shared, and the slowest runs say little
TASKS = [f"task-{n:02d}" for n in range(40)]
TARGET = 0.5


def script(n: int) -> list[tuple[type[ev.Event], dict[str, Any]]]:
    """A run's worth of events to emit: the plan, then agent output with task events mixed in.

    Built before timing, so the benchmark measures the bus and the store, not f-strings.
    """
    plan = {"tasks": [{"id": t, "title": t, "prompt": "do it"} for t in TASKS]}
    out: list[tuple[type[ev.Event], dict[str, Any]]] = [
        (
            ev.RunStarted,
            {
                "goal": "benchmark",
                "repo": "/tmp/repo",
                "base_branch": "main",
                "base_commit": "0" * 40,
                "integration_branch": "maestro/bench",
                "merge_policy": "auto",
                "max_agents": 8,
            },
        ),
        (ev.PlanProposed, {"plan": plan}),
        (ev.PlanApproved, {}),
    ]
    lines = [f"{n:>5} compiling src/module_{n}.py … ok, 3 warnings" for n in range(1000)]
    i = 0
    while len(out) < n:
        task = TASKS[(i // 100) % len(TASKS)]
        step = i % 100
        if step == 0:
            out.append((ev.TaskStarted, {"task": task, "attempt": 1, "worker": "llm"}))
        elif step == 50:
            out += [
                (ev.ToolCalled, {"task": task, "attempt": 1, "tool": "write_file", "args": "x"}),
                (ev.FileChanged, {"task": task, "path": "src/x.py"}),
                (
                    ev.LLMUsage,
                    {
                        "task": task,
                        "model": "m",
                        "tokens_in": 900,
                        "tokens_out": 120,
                        "cost_usd": 0.0004,
                        "latency_s": 0.8,
                    },
                ),
            ]
        elif step == 99:
            out += [
                (ev.TaskFinished, {"task": task, "attempt": 1, "commit": "c" * 40}),
                (ev.MergeQueued, {"task": task, "commit": "c" * 40}),
                (ev.Merged, {"task": task, "commit": "d" * 40}),
            ]
        else:
            out.append((ev.AgentOutput, {"task": task, "attempt": 1, "text": lines[i % 1000]}))
        i += 1
    return out[:n]


async def produce(bus: EventBus, events: list[tuple[type[ev.Event], dict[str, Any]]]) -> None:
    """Emit the scripted events, yielding to the loop now and then as live agents do."""
    emit = bus.emit
    for at in range(0, len(events), YIELD_EVERY):
        for cls, fields in events[at : at + YIELD_EVERY]:
            emit(cls, **fields)
        await asyncio.sleep(0)


Script = list[tuple[type[ev.Event], dict[str, Any]]]


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


async def store_run(db: Path, events: Script) -> tuple[float, float, float]:
    """(wall s, CPU s here, CPU s in the writer process) through EventBus -> Store -> SQLite,
    until everything is committed."""
    store = await Store.open(db, batch_size=BATCH)
    children = _children_cpu()
    try:
        bus = EventBus("bench-run")
        bus.subscribe(store.append)
        start, cpu = time.perf_counter(), time.process_time()
        await produce(bus, events)
        await store.flush()
        wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    finally:
        await store.close()  # the writer process ends: its CPU time is counted from here
    return wall, cpu, _children_cpu() - children


async def bus_run(events: Script) -> tuple[float, float]:
    """(wall s, CPU s) for the bus alone, no subscriber: the floor under the store's figure."""
    bus = EventBus("bench-run")
    start, cpu = time.perf_counter(), time.process_time()
    await produce(bus, events)
    return time.perf_counter() - start, time.process_time() - cpu


def baseline_rows(events: Script) -> list[tuple[Any, ...]]:
    """The rows the store writes for these events: same columns, same JSON payload."""
    stamped: list[ev.Event] = []
    bus = EventBus("bench-run")
    bus.subscribe(stamped.append)
    for cls, fields in events:
        bus.emit(cls, **fields)
    wall = time.time()
    return [(e.run_id, e.seq, e.ts, wall, e.type, e.task_id, encode_payload(e)) for e in stamped]


def baseline_run(db: Path, rows: list[tuple[Any, ...]]) -> tuple[float, float]:
    """(wall s, CPU s) for plain sqlite3 executemany of the rows, BATCH per transaction."""
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute(next(s for s in MIGRATIONS[0] if "CREATE TABLE events" in s))
        insert = "INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?)"
        start, cpu = time.perf_counter(), time.process_time()
        for at in range(0, len(rows), BATCH):
            conn.execute("BEGIN")
            conn.executemany(insert, rows[at : at + BATCH])
            conn.execute("COMMIT")
        return time.perf_counter() - start, time.process_time() - cpu
    finally:
        conn.close()


def main() -> None:
    """Print the store's sustained events/s, the raw baseline and their ratio (best runs)."""
    events = script(EVENTS)
    rows = baseline_rows(events)
    store_runs: list[tuple[float, float, float]] = []
    raw_runs: list[tuple[float, float]] = []
    bus_runs: list[tuple[float, float]] = []
    with tempfile.TemporaryDirectory(prefix="maestro-bench-store-") as tmp:
        for n in range(REPEATS):  # interleaved, so both sides see the same machine load
            store_runs.append(asyncio.run(store_run(Path(tmp) / f"store{n}.db", events)))
            raw_runs.append(baseline_run(Path(tmp) / f"raw{n}.db", rows))
            bus_runs.append(asyncio.run(bus_run(events)))
    store_wall, store_cpu, writer_cpu = min(store_runs)
    raw_wall, raw_cpu = min(raw_runs)
    store_rate, raw_rate = len(events) / store_wall, len(rows) / raw_wall
    ratio = store_rate / raw_rate
    us = 1e6 / len(events)
    print(
        f"store: {len(events):,} events, EventBus -> Store -> SQLite: {store_rate:,.0f} events/s"
        f" (µs CPU/event: {store_cpu * us:.1f} on the event loop's process,"
        f" {writer_cpu * us:.1f} in the writer process, its start-up included)"
    )
    print(
        f"raw:   {len(rows):,} rows, sqlite3 executemany in WAL:   {raw_rate:,.0f} rows/s"
        f" ({raw_cpu * us:.1f} µs CPU/row)"
    )
    bus_wall, bus_cpu = min(bus_runs)
    print(
        f"bus:   the same events, no subscriber:         {len(events) / bus_wall:,.0f} events/s"
        f" ({bus_cpu * us:.1f} µs CPU/event, included in the store's figure)"
    )
    verdict = "ok" if ratio >= TARGET else "BELOW TARGET"
    print(f"ratio: {ratio:.2f} (target >= {TARGET}) {verdict}")


if __name__ == "__main__":
    main()
